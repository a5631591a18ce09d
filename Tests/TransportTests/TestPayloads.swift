import Transport

/// Bytes that differ from position to position, so a dropped, repeated or reordered chunk shows.
func testPattern(count: Int, seed: UInt32) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: (UInt32(truncatingIfNeeded: $0) &+ seed) &* 2_654_435_761 >> 13) }
}

/// Reads until `count` bytes arrived or the stream ended.
func readExactly(_ stream: some ByteStream, count: Int) async throws -> [UInt8] {
    var received: [UInt8] = []
    received.reserveCapacity(count)
    while received.count < count {
        let n = try await stream.read(maxBytes: min(16 * 1024, count - received.count), deadline: .now + .seconds(10)) {
            received.append(contentsOf: $0)
        }
        if n == 0 { break }
    }
    return received
}
