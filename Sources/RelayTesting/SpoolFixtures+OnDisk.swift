#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Spool

extension SpoolFixtures {
    /// Writes `count` committed messages straight into `queue/` (or `failed/`) in the on-disk format
    /// (`MessageFileFormat`), without the group commit and without any fsync: for building big spools fast,
    /// for listings and benchmarks. No relayd may have the spool open meanwhile. `state` gives the `.state`
    /// file to write beside message `index` (nil: none, as for a message never tried). Returns the ids in order.
    @discardableResult
    public static func writeCommittedMessages(
        root: String, count: Int, into location: SpoolEntry.Location = .queue, bodySize: Int = 1024,
        sender: String = "alice@example.org", recipients: [String] = ["bob@example.net"],
        receivedAt: Double = Date().timeIntervalSince1970,
        state: ((Int, MessageEnvelope) -> DeliveryState?)? = nil
    ) throws -> [QueueID] {
        let layout = SpoolLayout(root: root)
        try layout.create()
        let generator = QueueIDGenerator()
        let stateEncoder = JSONEncoder()
        let body = message(size: bodySize)
        var ids: [QueueID] = []
        ids.reserveCapacity(count)
        for index in 0..<count {
            let envelope = MessageEnvelope(
                id: generator.next(), sender: sender, recipients: recipients, receivedAt: receivedAt,
                clientAddress: "192.0.2.1", clientName: "client.example", eightBitMIME: false, smtputf8: false)
            let id = envelope.id
            let bytes = MessageFileFormat.preamble(bodySize: body.count) + (try MessageFileFormat.envelopeLine(envelope)) + body
            let messagePath = location == .queue ? layout.messagePath(id) : layout.failedMessagePath(id)
            try write(bytes, to: messagePath)
            if let recorded = state?(index, envelope) {
                let statePath = location == .queue ? layout.statePath(id) : layout.failedStatePath(id)
                try write(Array(try stateEncoder.encode(recorded)), to: statePath)
            }
            ids.append(id)
        }
        return ids
    }

    /// A message of exactly `size` bytes (at least its header section): headers, an empty line, filler lines.
    public static func message(size: Int) -> [UInt8] {
        var bytes = body(subject: "Fixture")
        let line = Array("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n".utf8)
        while bytes.count < size { bytes += line.prefix(size - bytes.count) }
        return bytes
    }

    private static func write(_ bytes: [UInt8], to path: String) throws {
        let file = try POSIXFile.create(path)
        defer { file.close() }
        try file.write(bytes)
    }
}
