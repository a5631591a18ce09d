import ArgumentParser
import Control
import Foundation
import RelayctlCore
import Spool

/// `relayctl show ID`: one message's envelope, recipients and headers (postcat -q), or its bytes.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one message: envelope, state, each recipient's outcome and the header section, like postcat -q.",
        discussion: "The body is shown only with --raw. Exit 1 when no message has this id.")

    @OptionGroup var daemon: DaemonOptions

    @Argument(help: ArgumentHelp("The message's queue id.", valueName: "id"), transform: QueueIDArgument.parse)
    var id: QueueID

    @Flag(name: .long, help: "Write the message exactly as queued (Received: header included) to stdout.")
    var raw = false

    @Flag(name: .long, help: "Print the detail as one JSON object.")
    var json = false

    func validate() throws {
        if raw && json { throw ValidationError("--raw and --json exclude each other.") }
    }

    func run() async throws {
        let source = try daemon.queueSource()
        if raw {
            let message = try await source.showRaw(id)
            FileHandle.standardOutput.write(Data(message.bytes))
            return
        }
        let detail = try await source.show(id)
        if json { return StandardStreams.printJSONLine(detail) }
        for line in MessageDetailReport.lines(detail, now: SpoolInspector.wallClock()) { print(line) }
    }
}
