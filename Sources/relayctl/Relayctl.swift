#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser

/// relayctl: the operator's view of relayd and its queue (docs/relayctl.md).
@main
struct Relayctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relayctl",
        abstract: "See and steer a MailRelay daemon and its queue.",
        discussion: """
            relayctl talks to relayd over its control socket. queue, show and stats also work while relayd is \
            down: they then read the spool directly. Exit codes: 0 done, 1 not found / nothing matched / not \
            done, 2 usage, 3 relayd unreachable. Shell completion: relayctl --generate-completion-script bash.
            """,
        subcommands: [
            QueueCommand.self, ShowCommand.self, FlushCommand.self, HoldCommand.self, ReleaseCommand.self,
            DeleteCommand.self, StatsCommand.self, ReloadCommand.self, SendTestCommand.self, CheckConfigCommand.self,
            HashPasswordCommand.self,
        ])

    /// ArgumentParser's own `main` exits 64 on a usage error; relayctl's contract says 2.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            finish(with: error)
        }
    }

    /// Ends relayctl for `error` with the exit status docs/relayctl.md gives it.
    static func finish(with error: any Error) -> Never {
        if let failure = error as? RelayctlFailure {
            if let message = failure.message { StandardStreams.printError(message) }
            Glibc.exit(failure.status.rawValue)
        }
        if exitCode(for: error) == .validationFailure {
            StandardStreams.printToStandardError(fullMessage(for: error) + "\n")
            Glibc.exit(ExitStatus.usage.rawValue)
        }
        // Help, completion scripts (exit 0) and anything else, as ArgumentParser prints them.
        exit(withError: error)
    }
}
