#if canImport(Glibc)
import Glibc
#endif
import Control
import FastJSON

/// Gathers a long listing's output and writes it 64 KiB at a time, so the rows of a hundred thousand
/// messages cost a few hundred writes rather than a `print` each. What `print` buffered is flushed first,
/// so both stay in order.
struct StandardOutputBuffer {
    private static let chunk = 64 * 1024
    private var text: [UInt8] = []
    private var json = JSONWriter(capacity: 4096)

    init() {
        text.reserveCapacity(Self.chunk + 4096)
    }

    mutating func append(_ line: String) {
        text.append(contentsOf: line.utf8)
        flushIfFull()
    }

    /// Lets `write` append UTF-8 to the buffer in place.
    mutating func append(_ write: (inout [UInt8]) -> Void) {
        write(&text)
        flushIfFull()
    }

    /// A JSON value on a line of its own.
    mutating func append(jsonLine value: some JSONConvertible) {
        json.reset()
        value.write(to: &json)
        text.append(contentsOf: json.bytes)
        text.append(10)
        flushIfFull()
    }

    /// Writes out what has gathered.
    mutating func flush() {
        guard !text.isEmpty else { return }
        StandardStreams.flush()
        text.withUnsafeBufferPointer { bytes in
            var written = 0
            while written < bytes.count {
                let n = write(STDOUT_FILENO, bytes.baseAddress! + written, bytes.count - written)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return }  // stdout closed: nothing left to tell anyone
                written += n
            }
        }
        text.removeAll(keepingCapacity: true)
    }

    private mutating func flushIfFull() {
        if text.count >= Self.chunk { flush() }
    }
}
