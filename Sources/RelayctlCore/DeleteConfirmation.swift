import Control

/// `relayctl delete --state` asks before it deletes: `Delete 2 deferred messages? [y/N] `, and only `y` or
/// `yes` (any case) goes ahead.
public enum DeleteConfirmation {
    public static func question(count: Int, state: ControlRequest.DeletableState) -> String {
        "Delete \(MessageCount.text(count, state.rawValue))? [y/N] "
    }

    /// Whether the answer typed (nil at end of input) says yes.
    public static func accepts(_ answer: String?) -> Bool {
        guard let answer else { return false }
        let word = answer.filter { !$0.isWhitespace }.lowercased()
        return word == "y" || word == "yes"
    }
}
