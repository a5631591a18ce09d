import RelayctlCore
import Testing

@Suite("SizeText")
struct SizeTextTests {
    @Test(arguments: [
        (0, "0"), (812, "812"), (1023, "1023"), (1024, "1.0K"), (4198, "4.1K"), (12_698, "12.4K"),
        (102_297, "99.9K"), (102_350, "100K"), (831_488, "812K"), (1_023_487, "999K"), (1_023_488, "1.0M"),
        (3_355_443, "3.2M"), (5 * 1024 * 1024 * 1024, "5.0G"),
    ])
    func formats(bytes: Int, text: String) {
        #expect(SizeText.format(bytes) == text)
    }

    @Test func neverWiderThanFiveCharacters() {
        for bytes in stride(from: 0, through: 20_000_000_000, by: 7_919_777) {
            #expect(SizeText.format(bytes).count <= 5, "\(bytes)")
        }
    }
}
