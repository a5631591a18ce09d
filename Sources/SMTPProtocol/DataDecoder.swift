/// Decodes the DATA stream (RFC 5321 §4.1.1.4, §4.5.2): finds the end, removes dot-stuffing, counts size.
///
/// Only `CRLF . CRLF` ends the message. A bare CR or bare LF is never a line end here; it marks the message
/// as unsafe so the session can refuse it (SMTP smuggling, CVE-2023-51764/51765/51766). Bytes past the size
/// limit are counted but not kept, so memory stays bounded while an oversized message streams past.
public struct DataDecoder: Sendable {
    /// What the decoder found in the message, settled once `isFinished` is true.
    public struct Findings: Sendable, Equatable {
        /// The unstuffed message size in octets, including bytes not kept after the limit.
        public var size = 0
        public var exceededSizeLimit = false
        public var sawBareCR = false
        public var sawBareLF = false
        public var sawNUL = false
        /// A line longer than 998 octets plus CRLF (RFC 5321 §4.5.3.1.6).
        public var sawOverlongLine = false
    }

    private enum State: Sendable {
        case lineStart
        case inLine
        case dotAtLineStart
        case crAfterDot
        case cr
        case finished
    }

    public static let maxLineLength = 1000

    public let sizeLimit: Int
    public private(set) var findings = Findings()
    private var state = State.lineStart
    private var lineLength = 0

    public init(sizeLimit: Int) {
        self.sizeLimit = sizeLimit
    }

    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Consumes input up to and including the terminating `CRLF.CRLF`; appends message bytes to `output`.
    /// Returns how many bytes of `input` were used; the rest belongs to the next command.
    public mutating func decode(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) -> Int {
        var index = input.startIndex
        while index < input.endIndex {
            let byte = input[index]
            index += 1
            switch state {
            case .finished:
                return index - 1 - input.startIndex
            case .lineStart:
                if byte == UInt8(ascii: ".") {
                    state = .dotAtLineStart
                    lineLength = 0  // the stuffing dot is not part of the line (RFC 5321 §4.5.3.1.6)
                } else {
                    state = .inLine
                    lineLength = 0
                    consume(byte, into: &output)
                }
            case .dotAtLineStart:
                if byte == 13 {
                    state = .crAfterDot
                } else {
                    state = .inLine  // the stuffed dot is dropped
                    consume(byte, into: &output)
                }
            case .crAfterDot:
                if byte == 10 {
                    state = .finished
                    return index - input.startIndex
                }
                // "." CR x: a bare CR; keep what the client sent minus the stuffing dot.
                findings.sawBareCR = true
                emit(13, into: &output)
                state = .inLine
                consume(byte, into: &output)
            case .inLine:
                consume(byte, into: &output)
            case .cr:
                if byte == 10 {
                    emit(10, into: &output)
                    state = .lineStart
                    lineLength = 0
                } else {
                    findings.sawBareCR = true
                    state = .inLine
                    consume(byte, into: &output)
                }
            }
        }
        return index - input.startIndex
    }

    /// Handles one byte in the middle of a line.
    private mutating func consume(_ byte: UInt8, into output: inout [UInt8]) {
        switch byte {
        case 13:
            state = .cr
        case 10:
            findings.sawBareLF = true
        case 0:
            findings.sawNUL = true
        default:
            break
        }
        emit(byte, into: &output)
    }

    private mutating func emit(_ byte: UInt8, into output: inout [UInt8]) {
        lineLength += 1
        if lineLength > DataDecoder.maxLineLength {  // counts the CRLF, so 998 octets of text fit
            findings.sawOverlongLine = true
        }
        findings.size += 1
        if findings.size > sizeLimit {
            findings.exceededSizeLimit = true
            return
        }
        output.append(byte)
    }
}
