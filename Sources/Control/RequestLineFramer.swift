/// Splits a control connection's bytes into request lines of at most `maximumLength` bytes (newline not
/// counted; a CR before it is dropped; empty lines are skipped).
///
/// A line that grows past the limit is reported once, as soon as it does (so a client waiting for an answer
/// gets one), and the rest of it is dropped up to its newline without being kept: the connection stays in
/// step and usable, and memory stays bounded whatever the client sends.
struct RequestLineFramer {
    /// What the next piece of input amounts to.
    enum Event: Equatable {
        case line([UInt8])
        case tooLong
    }

    let maximumLength: Int
    private var buffer: [UInt8] = []
    /// Inside a line already reported too long: input is dropped up to its newline.
    private var discarding = false

    init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    mutating func next() -> Event? {
        while true {
            let newline = buffer.firstIndex(of: 10)
            if discarding {
                guard let newline else {
                    buffer.removeAll(keepingCapacity: true)
                    return nil
                }
                buffer.removeSubrange(...newline)
                discarding = false
                continue
            }
            guard let newline else {
                guard buffer.count > maximumLength else { return nil }
                buffer.removeAll(keepingCapacity: true)
                discarding = true
                return .tooLong
            }
            var line = Array(buffer[..<newline])
            buffer.removeSubrange(...newline)
            if line.last == 13 { line.removeLast() }
            if line.isEmpty { continue }
            return line.count > maximumLength ? .tooLong : .line(line)
        }
    }
}
