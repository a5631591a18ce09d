import FastJSON
import FoundationEssentials

extension MessageEnvelope {
    /// Whether `name` is a member this version writes (a switch, not a set: no hashing per member).
    static func isMemberName(_ name: String) -> Bool {
        switch name {
        case "id", "sender", "recipients", "receivedAt", "clientAddress", "clientName", "eightBitMIME", "smtputf8": true
        default: false
        }
    }

    /// Decodes the envelope line of a queue file. A listing reads a hundred thousand of these, so the
    /// common case goes through `JSONParser` (a fraction of JSONDecoder's cost); a line this does not
    /// recognise member for member (a member added since, say) is left to JSONDecoder, whose verdict and
    /// error stand.
    static func decode(jsonLine bytes: ArraySlice<UInt8>) throws -> MessageEnvelope {
        if let value = try? JSONParser.parse(bytes), let envelope = try? MessageEnvelope(exactly: value) {
            return envelope
        }
        return try JSONDecoder().decode(MessageEnvelope.self, from: Data(bytes))
    }

    /// The envelope `value` describes, when it has exactly the members this version writes.
    init(exactly value: JSONValue) throws(JSONError) {
        let members = try value.members()
        guard members.count == 8, members.allSatisfy({ Self.isMemberName($0.key) }) else {
            throw JSONError("not this version's envelope members")
        }
        guard let id = QueueID(try value.string("id")) else { throw JSONError("\"id\" is not a queue id") }
        self.init(
            id: id, sender: try value.string("sender"), recipients: try value.strings("recipients"),
            receivedAt: try value.double("receivedAt"), clientAddress: try value.string("clientAddress"),
            clientName: try value.string("clientName"), eightBitMIME: try value.bool("eightBitMIME"),
            smtputf8: try value.bool("smtputf8"))
    }
}
