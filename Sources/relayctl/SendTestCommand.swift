import ArgumentParser
import Control
import Foundation
import RelayConfiguration
import RelayctlCore
import Spool

/// `relayctl send-test --to ADDR`: send a test message through relayd's own SMTP listener and wait for
/// the outcome of its delivery (sendmail -bv, swaks).
struct SendTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send-test",
        abstract: "Send a test message through relayd and wait for the outcome of its delivery.",
        discussion: """
            The message goes to the first listen.smtp address (a wildcard address on loopback). Exit 0 when \
            it was delivered, 1 when deferred, bounced or not tried within --timeout, 3 when relayd is not running.
            """)

    @OptionGroup var daemon: DaemonOptions

    @Option(name: .long, help: ArgumentHelp("The recipient.", valueName: "address"))
    var to: String

    @Option(name: .long, help: ArgumentHelp("The sender. Default: postmaster@ relayd's hostname.", valueName: "address"))
    var from: String?

    @Option(
        name: .long, help: ArgumentHelp("How long to wait for the delivery attempt's outcome (default 60s).", valueName: "duration"),
        transform: DurationArgument.parse)
    var timeout: Duration = .seconds(60)

    /// How long each SMTP exchange with relayd's listener may take.
    static let submissionTimeout = Duration.seconds(30)

    func validate() throws {
        guard (1...ControlRequest.maximumAwaitSeconds).contains(DurationArgument.seconds(timeout)) else {
            throw ValidationError("--timeout must be between 1s and 1h.")
        }
        if to.isEmpty { throw ValidationError("--to needs an address.") }
    }

    func run() throws {
        let settings = try daemon.settings()
        guard let listener = settings.listen.smtp.first else { throw RelayctlFailure(.notDone, "listen.smtp names no address") }
        // Before anything is sent: a message whose outcome cannot be awaited is no test.
        let control = try daemon.connect(for: "send-test")
        let id = try submit(to: listener.host, port: listener.port, hostname: settings.hostname)
        print("queued as \(id)")
        StandardStreams.flush()

        let seconds = DurationArgument.seconds(timeout)
        switch try control.reply(to: .awaitOutcome(id, timeoutSeconds: seconds)) {
        case .outcome(let outcome):
            for line in AttemptOutcomeLines.lines(outcome) { print(line) }
            guard AttemptOutcomeLines.allSent(outcome) else {
                throw RelayctlFailure(.notDone, "\(id) was not delivered; relayctl show \(id) tells where it stands")
            }
        case .timedOut:
            throw RelayctlFailure(
                .notDone, "no delivery attempt of \(id) ended within \(AgeText.format(seconds: seconds)); relayctl show \(id) tells where it stands")
        default:
            throw RelayctlFailure.unexpectedReply(to: "await_outcome")
        }
    }

    /// Hands the test message to relayd's listener and returns its queue id.
    private func submit(to listenHost: String, port: UInt16, hostname: String) throws(RelayctlFailure) -> QueueID {
        let host = SMTPSubmission.reachableHost(forListener: listenHost)
        let sender = from ?? "postmaster@\(hostname)"
        let message = TestMessage(
            from: sender, to: to, hostname: hostname, user: ProcessInfo.processInfo.userName,
            date: Int(SpoolInspector.wallClock()), token: String(UInt64.random(in: 0...UInt64.max), radix: 36))
        let reply: SMTPReply
        do throws(SMTPSubmissionError) {
            let submission = try SMTPSubmission(host: host, port: port, timeout: Self.submissionTimeout)
            reply = try submission.submit(ehlo: "relayctl.localhost", from: sender, to: to, message: message.bytes)
            submission.quit()
        } catch {
            if case .unreachable(let address, _) = error {
                throw RelayctlFailure(.unreachable, "relayd is not running (no answer on \(address)); send-test needs it")
            }
            throw RelayctlFailure(.notDone, "relayd did not take the test message: \(error)")
        }
        guard let text = reply.queuedAs, let id = QueueID(text) else {
            throw RelayctlFailure(.notDone, "relayd took the test message but its reply names no queue id: \(reply)")
        }
        return id
    }
}
