import ArgumentParser
import Control
import RelayctlCore
import Spool

/// `relayctl release ID…`: deliver held messages again (postsuper -H).
struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Let held messages be delivered again, at once, like postsuper -H.",
        discussion: "Exit 1 when an id is not in the queue.")

    @OptionGroup var daemon: DaemonOptions

    @Argument(help: ArgumentHelp("Queue ids of the messages to release.", valueName: "id"), transform: QueueIDArgument.parse)
    var ids: [QueueID]

    func run() throws {
        try QueueChange.apply(.release(ids), command: "release", done: "released", daemon: daemon)
    }
}
