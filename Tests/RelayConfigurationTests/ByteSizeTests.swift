import Testing
@testable import RelayConfiguration

@Suite struct ByteSizeTests {
    @Test(arguments: [
        ("1000", 1000),
        ("0", 0),
        ("10MiB", 10 * 1_048_576),
        ("10MB", 10_000_000),
        ("512KiB", 524_288),
        ("512KB", 512_000),
        ("2GiB", 2 * 1_073_741_824),
        ("1GB", 1_000_000_000),
        ("100B", 100),
        ("10mib", 10_485_760),
        ("10 MiB", 10_485_760),
        (" 25MB ", 25_000_000),
    ])
    func parsesValidSizes(text: String, bytes: Int) {
        #expect(ByteSize(parsing: text)?.bytes == bytes)
    }

    @Test(arguments: [
        "", "MiB", "10 potatoes", "10M", "10K", "1.5MiB", "-1", "+5", "10MiBs", "ten", "10 Mi B",
        "99999999999999999999", "9999999999GiB",
    ])
    func rejectsInvalidSizes(text: String) {
        #expect(ByteSize(parsing: text) == nil)
    }

    @Test(arguments: [
        (10_485_760, "10MiB"), (524_288, "512KiB"), (1_073_741_824, "1GiB"), (10_000_000, "10000000"),
        (1000, "1000"), (0, "0"),
    ])
    func formatsInTheLargestExactBinaryUnit(bytes: Int, text: String) {
        #expect(ByteSize(bytes: bytes).description == text)
        #expect(ByteSize(parsing: text)?.bytes == bytes)
    }
}
