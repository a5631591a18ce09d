/// relayctl's exit codes (docs/relayctl.md), which scripts may rely on.
enum ExitStatus: Int32, Sendable {
    case done = 0
    /// Not found, nothing matched, or not done (a test message not delivered, a bulk delete not confirmed).
    case notDone = 1
    /// An unknown option or a bad argument.
    case usage = 2
    /// relayd is unreachable and the command needs it.
    case unreachable = 3
}
