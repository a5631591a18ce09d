/// Splits the command stream into lines, keeping memory bounded when a client sends a line without end.
///
/// Commands end at LF with an optional CR before it (bare LF is tolerated in commands, as Postfix does;
/// only DATA needs the strict CRLF rule). A line longer than `maxLineLength` is reported once and its
/// remainder discarded up to the next LF, so a hostile client cannot grow the buffer.
public struct CommandLineFramer: Sendable {
    /// A framed input event.
    public enum Event: Sendable, Equatable {
        case line([UInt8])
        case lineTooLong
    }

    public let maxLineLength: Int
    private var discarding = false

    public init(maxLineLength: Int = SMTPCommandParser.maxLineLength) {
        self.maxLineLength = maxLineLength
    }

    /// Takes the next complete line out of `buffer`, or nil when more input is needed.
    public mutating func next(from buffer: inout InputBuffer) -> Event? {
        while true {
            let readable = buffer.readable
            guard let lf = readable.firstIndex(of: 10) else {
                // Keep at most one line's worth: past that, the line is too long whatever follows.
                if readable.count > maxLineLength {
                    buffer.consume(readable.count)
                    if !discarding {
                        discarding = true
                    }
                }
                return nil
            }
            let length = lf - readable.startIndex + 1
            if discarding {
                discarding = false
                buffer.consume(length)
                return .lineTooLong
            }
            if length > maxLineLength {
                buffer.consume(length)
                return .lineTooLong
            }
            var end = lf
            if end > readable.startIndex, readable[end - 1] == 13 { end -= 1 }
            let line = Array(readable[readable.startIndex..<end])
            buffer.consume(length)
            return .line(line)
        }
    }
}
