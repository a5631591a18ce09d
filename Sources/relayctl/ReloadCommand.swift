import ArgumentParser
import Control

/// `relayctl reload`: have relayd read its configuration again (postfix reload; the same as SIGHUP).
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Have relayd read its configuration and secret files again (postfix reload; same as SIGHUP).",
        discussion: """
            New values apply to new SMTP sessions and new upstream connections; nothing in progress is dropped. \
            Listener addresses, spool.path, outbox.path, upstream.connections and log.format need a restart: \
            they are listed and keep their running values. A configuration relayd cannot use is refused, the \
            running one stays, and relayctl prints why and exits 1. Exit 3 when relayd is not running.
            """)

    @OptionGroup var daemon: DaemonOptions

    @Flag(name: .long, help: "Print relayd's answer as one JSON object (the ReloadReport schema).")
    var json = false

    func run() throws {
        let request = ControlRequest.reload
        guard case .reload(let report) = try daemon.connect(for: "reload").reply(to: request) else {
            throw RelayctlFailure.unexpectedReply(to: request.command)
        }
        if json { StandardStreams.printJSONLine(report) }
        switch report.result {
        case .refused:
            throw RelayctlFailure(.notDone, json ? nil : "relayd refused the configuration, the running one stays in force: \(report.error ?? "")")
        case .unchanged:
            if !json { print("Configuration reloaded: nothing changed") }
        case .applied:
            guard !json else { return }
            if !report.applied.isEmpty { print("Configuration reloaded: \(report.applied.joined(separator: ", "))") }
            if !report.needsRestart.isEmpty {
                print("Needs a restart to take effect (the running values stay): \(report.needsRestart.joined(separator: ", "))")
            }
        }
    }
}
