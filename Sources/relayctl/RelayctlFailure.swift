import Control

/// Why a command ends without success: the sentence relayctl prints after `relayctl: ` (none when the
/// output already said it) and the exit status.
struct RelayctlFailure: Error, Sendable {
    var status: ExitStatus
    var message: String?

    init(_ status: ExitStatus, _ message: String? = nil) {
        self.status = status
        self.message = message
    }

    /// A control-channel failure: relayd unreachable, silent or gone is exit 3; an error it answered is the
    /// error's (a missing message is 1).
    init(_ error: ControlClientError) {
        switch error {
        case .unreachable, .system, .timedOut, .disconnected:
            self.init(.unreachable, error.description)
        case .malformedReply:
            self.init(.notDone, error.description)
        case .rejected(let rejection):
            self.init(rejection)
        }
    }

    /// An error relayd answered with, or the spool reader's when relayd is down (exit codes as in
    /// docs/control-protocol.md).
    init(_ error: ControlError) {
        switch error.code {
        case .notFound, .internal: self.init(.notDone, error.message)
        case .badRequest: self.init(.usage, error.message)
        case .unavailable: self.init(.unreachable, error.message)
        }
    }
}

extension RelayctlFailure {
    /// relayd answered with a reply of another kind than the request's.
    static func unexpectedReply(to command: String) -> RelayctlFailure {
        RelayctlFailure(.notDone, "relayd answered \(command) with another kind of reply; are relayctl and relayd the same version?")
    }
}
