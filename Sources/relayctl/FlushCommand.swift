import ArgumentParser
import Control
import RelayctlCore
import Spool

/// `relayctl flush [ID…]`: retry deferred messages now (postqueue -f, postqueue -i).
struct FlushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Retry every deferred message now (postqueue -f), or just the given ones (postqueue -i).",
        discussion: """
            A bare flush also ends the upstream's "temporarily suspended" pause after failures. Held messages \
            stay held. Exit 1 when a given id is not in the queue; 3 when relayd is not running.
            """)

    @OptionGroup var daemon: DaemonOptions

    @Argument(help: ArgumentHelp("Queue ids to retry now; none: every deferred message.", valueName: "id"), transform: QueueIDArgument.parse)
    var ids: [QueueID] = []

    func run() throws {
        guard ids.isEmpty else {
            return try QueueChange.apply(.flush(ids), command: "flush", done: "flushed", daemon: daemon)
        }
        let report = try daemon.connect(for: "flush").changes(.flush(nil))
        print("Flushed \(MessageCount.text(report.count, "deferred"))")
    }
}
