import FastJSON
import FoundationEssentials

extension DeliveryState {
    /// Reads a `.state` file (in `queue/` or `failed/`): `.io` when it cannot be read (ENOENT when it is gone),
    /// `.corrupt` when it does not decode.
    static func read(from path: String) throws(SpoolError) -> DeliveryState {
        let file = try POSIXFile.openForReading(path)
        defer { file.close() }
        let bytes = try file.read()
        do { return try decode(json: bytes) } catch {
            throw .corrupt(path: path, reason: "state does not decode: \(error)")
        }
    }

    static let memberNames: Set<String> = ["attempts", "nextAttemptAt", "held", "lastError", "recipients", "history"]
    static let attemptMemberNames: Set<String> = ["at", "relay", "recipients"]
    static let recipientMemberNames: Set<String> = ["address", "status", "reply", "at", "senderNotified"]

    /// Decodes a state file's JSON. As with envelopes, the common case goes through `JSONParser`; a state
    /// with a member this code does not know (added since) is left to JSONDecoder, so nothing is dropped.
    static func decode(json bytes: [UInt8]) throws -> DeliveryState {
        if let value = try? JSONParser.parse(bytes), let state = try? DeliveryState(knownMembersOf: value) {
            return state
        }
        return try JSONDecoder().decode(DeliveryState.self, from: Data(bytes))
    }

    /// The state `value` describes, when all its members are ones this version knows.
    init(knownMembersOf value: JSONValue) throws(JSONError) {
        guard try value.members().allSatisfy({ Self.memberNames.contains($0.key) }) else {
            throw JSONError("unknown state members")
        }
        self.init(recipients: [])
        attempts = try value.int("attempts")
        nextAttemptAt = try value.double("nextAttemptAt")
        held = try value.bool("held")
        lastError = try value.optionalString("lastError")
        recipients = try Self.recipients(in: value)
        if let items = try value.optionalArray("history") {
            var history: [Attempt] = []
            for item in items {
                guard try item.members().allSatisfy({ Self.attemptMemberNames.contains($0.key) }) else {
                    throw JSONError("unknown attempt members")
                }
                history.append(Attempt(at: try item.double("at"), relay: try item.string("relay"), recipients: try Self.recipients(in: item)))
            }
            self.history = history
        }
    }

    private static func recipients(in value: JSONValue) throws(JSONError) -> [Recipient] {
        var recipients: [Recipient] = []
        for item in try value.array("recipients") {
            guard try item.members().allSatisfy({ Self.recipientMemberNames.contains($0.key) }) else {
                throw JSONError("unknown recipient members")
            }
            guard let status = Recipient.Status(rawValue: try item.string("status")) else { throw JSONError("unknown status") }
            var recipient = Recipient(address: try item.string("address"), status: status, reply: try item.optionalString("reply"))
            if let at = item["at"], at != .null { recipient.at = try item.double("at") }
            recipient.senderNotified = try item.optionalBool("senderNotified")
            recipients.append(recipient)
        }
        return recipients
    }
}
