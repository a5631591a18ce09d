import RelayctlCore
import Testing

@Suite("AgeText")
struct AgeTextTests {
    @Test(arguments: [
        (-5, "0s"), (0, "0s"), (45, "45s"), (59, "59s"), (60, "1m"), (199, "3m"), (3_599, "59m"), (3_600, "1h"),
        (7_980, "2h13m"), (86_399, "23h59m"), (86_400, "1d"), (352_800, "4d2h"), (8_640_000, "100d"),
    ])
    func formats(seconds: Int, text: String) {
        #expect(AgeText.format(seconds: seconds) == text)
    }
}
