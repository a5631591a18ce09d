import Control

/// `--state deferred,held`: one or more message states, separated by commas.
public enum StateListArgument {
    public static func parse(_ text: String) throws(ArgumentError) -> [QueueEntry.State] {
        var states: [QueueEntry.State] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            // `deferred, held` as typed in quotes means the same.
            guard let state = QueueEntry.State(rawValue: part.filter { $0 != " " }.lowercased()) else {
                let known = QueueEntry.State.allCases.map(\.rawValue).joined(separator: ", ")
                throw ArgumentError("\"\(part)\" is not a state; the states are \(known)")
            }
            states.append(state)
        }
        return states
    }
}
