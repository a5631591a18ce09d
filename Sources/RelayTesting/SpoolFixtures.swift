import Spool

/// Ready-made messages for tests that need something in the queue.
public enum SpoolFixtures {
    /// A short, valid message with CRLF line ends.
    public static func body(subject: String = "Test") -> [UInt8] {
        Array("From: alice@example.org\r\nTo: bob@example.net\r\nSubject: \(subject)\r\n\r\nHello.\r\n".utf8)
    }

    /// `count` pseudo-random bytes from a seeded generator, so failures reproduce.
    public static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = generator.next()
            for _ in 0..<8 where index < count {
                out[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return out
    }
}

extension Spool {
    /// Receives and commits one message in one go, as a session would; returns its id.
    @discardableResult
    public func commitMessage(
        sender: String = "alice@example.org", recipients: [String] = ["bob@example.net"],
        body: [UInt8] = SpoolFixtures.body(), chunkSize: Int = 64 * 1024
    ) async throws -> QueueID {
        let receipt = beginReceipt(
            sender: sender, recipients: recipients, clientAddress: "192.0.2.1", clientName: "client.example",
            eightBitMIME: false, smtputf8: false)
        var offset = 0
        while offset < body.count {
            let end = min(body.count, offset + chunkSize)
            try await receipt.append(body[offset..<end])
            offset = end
        }
        return try await receipt.commit()
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, seeded, good enough for test data.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
