import ArgumentParser
import Control
import RelayctlCore

/// `relayctl queue`: the queue as a table (mailq) or as JSON Lines (postqueue -j).
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "List the queued (and failed) messages, like mailq.",
        discussion: """
            Rows are printed as they are read. Exit 0 when messages are listed or the queue is empty, 1 when \
            filters match nothing.
            """)

    @OptionGroup var daemon: DaemonOptions

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Only messages in this state: queued, active, deferred, held, failed. Repeat it or separate with commas.",
            valueName: "state"),
        completion: .list(QueueEntry.State.allCases.map(\.rawValue)),
        transform: StateListArgument.parse)
    var state: [[QueueEntry.State]] = []

    @Option(name: .long, help: ArgumentHelp("Only senders containing this text, any case; <> for the null sender.", valueName: "text"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Only messages with a recipient containing this text, any case.", valueName: "text"))
    var to: String?

    @Option(
        name: .customLong("older-than"), help: ArgumentHelp("Only messages older than this: 90s, 30m, 2h, 5d.", valueName: "duration"),
        transform: DurationArgument.parse)
    var olderThan: Duration?

    @Flag(name: .long, help: "JSON Lines: one object per message (the QueueEntry schema), no summary.")
    var json = false

    func run() async throws {
        let arguments = QueueFilterArguments(states: state, from: from, to: to, olderThan: olderThan)
        let source = try daemon.queueSource()
        let table = QueueTable(now: SpoolInspector.wallClock())
        let json = self.json
        var headerPrinted = false
        var output = StandardOutputBuffer()
        defer { output.flush() }  // what was listed before an error, too
        let summary = try await source.queue(arguments.filter) { entry in
            if json {
                output.append(jsonLine: entry)
            } else {
                if !headerPrinted {
                    output.append(QueueTable.header + "\n")
                    headerPrinted = true
                }
                output.append { table.append(entry, to: &$0) }
            }
        }
        output.flush()
        for problem in summary.unreadable { StandardStreams.printError("not listed: \(problem)") }
        guard summary.messages > 0 else {
            // JSON Lines readers get no prose on stdout: the exit status says it.
            if arguments.restricts {
                if !json { print("No messages match") }
                throw RelayctlFailure(.notDone)
            }
            if !json { print("Mail queue is empty") }
            return
        }
        if !json { print(QueueSummaryLine.text(summary)) }
    }
}
