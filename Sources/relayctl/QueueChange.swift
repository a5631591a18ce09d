import Control
import RelayctlCore

/// What hold, release, delete and flush of given ids share: send the change to relayd, print one
/// `ID: OUTCOME` line per message, and exit 1 when one of them does not exist.
enum QueueChange {
    /// `command` names the change in messages (`hold`); `done` is the outcome word for a success (`held`).
    static func apply(_ request: ControlRequest, command: String, done: String, daemon: DaemonOptions) throws(RelayctlFailure) {
        let client = try daemon.connect(for: command)
        let report = try client.changes(request)
        for line in ChangeReportLines.lines(report, done: done) { print(line) }
        if ChangeReportLines.anyNotFound(report) { throw RelayctlFailure(.notDone) }
    }
}
