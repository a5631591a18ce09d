import Control
import Testing

@Suite("UTCTimestamp")
struct UTCTimestampTests {
    @Test(arguments: [
        (0, "1970-01-01T00:00:00Z"),
        (1_714_564_800, "2024-05-01T12:00:00Z"),
        (951_825_599, "2000-02-29T11:59:59Z"),
        (4_102_444_800, "2100-01-01T00:00:00Z"),
    ])
    func formatsAndParsesBack(seconds: Int, text: String) {
        #expect(UTCTimestamp.format(seconds) == text)
        #expect(UTCTimestamp.parse(text) == seconds)
    }

    @Test func acceptsFractionsAndRefusesOtherForms() {
        #expect(UTCTimestamp.parse("2024-05-01T12:00:00.250Z") == 1_714_564_800)
        for text in ["", "2024-05-01 12:00:00Z", "2024-05-01T12:00:00", "2024-05-01T12:00:00+00:00", "2024-13-01T12:00:00Z", "2024-05-01T12:00:00.Z"] {
            #expect(UTCTimestamp.parse(text) == nil, "\(text)")
        }
    }
}
