import ArgumentParser
import Control
import RelayctlCore
import Spool

/// `relayctl hold ID…`: keep messages from being delivered until released (postsuper -h).
struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Keep messages from being delivered until they are released, like postsuper -h.",
        discussion: "A held message stays held across restarts and flushes. Exit 1 when an id is not in the queue.")

    @OptionGroup var daemon: DaemonOptions

    @Argument(help: ArgumentHelp("Queue ids of the messages to hold.", valueName: "id"), transform: QueueIDArgument.parse)
    var ids: [QueueID]

    func run() throws {
        try QueueChange.apply(.hold(ids), command: "hold", done: "held", daemon: daemon)
    }
}
