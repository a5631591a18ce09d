import FastJSON
import FoundationEssentials
import Spool

/// A message exactly as queued (the bytes as accepted, Received: header included): `relayctl show --raw`.
/// On the wire the bytes travel base64-encoded in one reply line.
public struct RawMessage: Sendable, Equatable {
    public var id: QueueID
    public var bytes: [UInt8]

    public init(id: QueueID, bytes: [UInt8]) {
        self.id = id
        self.bytes = bytes
    }
}

extension RawMessage: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("id"); w.string(id.rawValue)
            w.key("size"); w.int(bytes.count)
            w.key("base64"); w.string(Data(bytes).base64EncodedString())
        }
    }

    public init(json v: JSONValue) throws(JSONError) {
        guard let data = Data(base64Encoded: try v.string("base64")) else { throw JSONError("\"base64\" is not base64") }
        self.init(id: try v.queueID("id"), bytes: [UInt8](data))
    }
}
