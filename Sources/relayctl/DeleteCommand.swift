import ArgumentParser
import Control
import RelayctlCore
import Spool

/// `relayctl delete ID…` and `relayctl delete --state STATE`: remove messages without delivering or
/// bouncing them (postsuper -d).
struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Remove messages from the queue (or failed/) without delivering them, like postsuper -d.",
        discussion: """
            With --state, every message in that state goes; relayctl says how many and asks first unless \
            --yes is given. Exit 1 when an id is not in the queue, nothing matches or the answer is not yes.
            """)

    @OptionGroup var daemon: DaemonOptions

    @Argument(help: ArgumentHelp("Queue ids of the messages to delete.", valueName: "id"), transform: QueueIDArgument.parse)
    var ids: [QueueID] = []

    @Option(
        name: .long,
        help: ArgumentHelp("Delete every message in this state: failed, deferred or held.", valueName: "state"),
        completion: .list(ControlRequest.DeletableState.allCases.map(\.rawValue)),
        transform: DeleteCommand.deletableState)
    var state: ControlRequest.DeletableState?

    @Flag(name: .long, help: "With --state: do not ask.")
    var yes = false

    func validate() throws {
        switch (ids.isEmpty, state) {
        case (true, nil): throw ValidationError("Name the queue ids to delete, or a --state.")
        case (false, .some): throw ValidationError("Give either queue ids or --state, not both.")
        case (false, nil) where yes: throw ValidationError("--yes goes with --state only.")
        default: break
        }
    }

    func run() throws {
        guard let state else {
            return try QueueChange.apply(.delete(ids), command: "delete", done: "deleted", daemon: daemon)
        }
        if !yes {
            // A connection of its own for the count: the answer may take longer than relayd keeps an idle one.
            let summary = try daemon.connect(for: "delete").listing(QueueFilter(states: [QueueEntry.State(state)])) { _ in }
            guard summary.messages > 0 else { return try nothingMatches() }
            StandardStreams.printToStandardError(DeleteConfirmation.question(count: summary.messages, state: state))
            guard DeleteConfirmation.accepts(readLine()) else {
                print("Nothing deleted.")
                throw RelayctlFailure(.notDone)
            }
        }
        let report = try daemon.connect(for: "delete").changes(.deleteState(state))
        guard report.count > 0 else { return try nothingMatches() }
        print("Deleted \(MessageCount.text(report.count, state.rawValue))")
    }

    private func nothingMatches() throws {
        print("No messages match")
        throw RelayctlFailure(.notDone)
    }

    @Sendable static func deletableState(_ text: String) throws -> ControlRequest.DeletableState {
        guard let state = ControlRequest.DeletableState(rawValue: text.lowercased()) else {
            throw ArgumentError("delete --state takes failed, deferred or held")
        }
        return state
    }
}

extension QueueEntry.State {
    /// The listing state of messages `delete --state` removes.
    init(_ state: ControlRequest.DeletableState) {
        switch state {
        case .failed: self = .failed
        case .deferred: self = .deferred
        case .held: self = .held
        }
    }
}
