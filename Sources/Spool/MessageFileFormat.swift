import FoundationEssentials

/// The layout of `queue/<id>.msg`: a fixed-width preamble with the body size, the envelope as one JSON
/// line, then the message bytes exactly as accepted.
///
/// ```
/// MRQ1 000000001234\n
/// {"id":"…","sender":"…",…}\n
/// Received: …\r\n…
/// ```
/// The size lets recovery tell a complete file from one cut short by a crash before its commit finished;
/// it is fixed-width so a message spilled to disk while it streams in can get its size written last.
public enum MessageFileFormat {
    static let magic = Array("MRQ1 ".utf8)
    public static let preambleLength = 18

    /// The preamble for a body of `size` bytes.
    public static func preamble(bodySize size: Int) -> [UInt8] {
        let digits = String(size)
        return magic + Array((String(repeating: "0", count: 12 - digits.count) + digits).utf8) + [10]
    }

    /// The envelope line, newline included.
    public static func envelopeLine(_ envelope: MessageEnvelope) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(envelope)) + [10]
    }

    /// Splits a file's leading bytes into envelope, body offset and declared body size.
    public static func parseHeader(_ bytes: some Collection<UInt8>, path: String) throws(SpoolError) -> (envelope: MessageEnvelope, bodyOffset: Int, bodySize: Int) {
        let data = Array(bytes)
        guard data.count >= preambleLength, Array(data[0..<5]) == magic, data[preambleLength - 1] == 10,
              let size = Int(String(decoding: data[5..<17], as: UTF8.self)) else {
            throw .corrupt(path: path, reason: "not a MailRelay queue file (bad preamble)")
        }
        guard let newline = data[preambleLength...].firstIndex(of: 10) else {
            throw .corrupt(path: path, reason: "envelope line is incomplete")
        }
        let envelope: MessageEnvelope
        do {
            envelope = try MessageEnvelope.decode(jsonLine: data[preambleLength..<newline])
        } catch {
            throw .corrupt(path: path, reason: "envelope does not decode: \(error)")
        }
        return (envelope, newline + 1, size)
    }
}

extension MessageFileFormat {
    /// Reads and parses a queue file's header, reading further while the envelope line has not ended
    /// (a thousand recipients make an envelope of tens of kilobytes). The first read is small because a
    /// listing reads a hundred thousand headers, nearly all of a few hundred bytes.
    /// `fileSize` comes with it when the reads took the whole file (a short read ends at end of file), so
    /// a small message costs no `fstat`.
    static func readHeader(_ file: POSIXFile) throws(SpoolError) -> (envelope: MessageEnvelope, bodyOffset: Int, bodySize: Int, fileSize: Int?) {
        var limit = 4 * 1024
        while true {
            let head = try file.read(at: 0, limit: limit)
            if head.count < limit || head.dropFirst(preambleLength).contains(10) || limit >= 64 * 1024 * 1024 {
                let header = try parseHeader(head, path: file.path)
                return (header.envelope, header.bodyOffset, header.bodySize, head.count < limit ? head.count : nil)
            }
            limit *= 4
        }
    }
}

extension MessageFileFormat {
    /// Reads the header of a committed file (in `queue/` or `failed/`) and checks that the file is whole and
    /// names `id`. A cut-short file in `queue/` is one a crash interrupted before its commit, so it was
    /// never acknowledged (`acknowledged: false` says so in the reason); in `failed/` it is damage.
    static func readCommittedHeader(
        _ file: POSIXFile, id: QueueID, acknowledged: Bool
    ) throws(SpoolError) -> (envelope: MessageEnvelope, bodyOffset: Int, bodySize: Int) {
        let header = try readHeader(file)
        var size = header.fileSize ?? -1
        if size < 0 { size = try file.size() }
        guard size == header.bodyOffset + header.bodySize else {
            let note = acknowledged ? "" : " (never acknowledged)"
            throw .corrupt(path: file.path, reason: "incomplete: \(size - header.bodyOffset) of \(header.bodySize) body bytes\(note)")
        }
        guard header.envelope.id == id else { throw .corrupt(path: file.path, reason: "envelope names \(header.envelope.id)") }
        return (header.envelope, header.bodyOffset, header.bodySize)
    }
}
