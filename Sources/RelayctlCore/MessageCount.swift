/// A number of messages in words: `1 message`, `3 messages`, optionally qualified (`2 deferred messages`).
public enum MessageCount {
    public static func text(_ count: Int, _ qualifier: String? = nil) -> String {
        let noun = count == 1 ? "message" : "messages"
        return qualifier.map { "\(count) \($0) \(noun)" } ?? "\(count) \(noun)"
    }
}
