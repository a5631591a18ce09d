import Spool

/// A queue id typed on the command line; lower case is accepted, as ids are often typed rather than pasted.
public enum QueueIDArgument {
    public static func parse(_ text: String) throws(ArgumentError) -> QueueID {
        guard let id = QueueID(text.uppercased()) else {
            throw ArgumentError("a queue id is 13 characters of 0-9 and A-Z (without I, L, O, U), like 0F3A9C2E1B7D4")
        }
        return id
    }
}
