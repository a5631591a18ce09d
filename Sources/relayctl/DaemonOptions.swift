import ArgumentParser
import Control
import Foundation
import RelayConfiguration
import RelayctlCore
import Spool

/// `--config` and `--socket`, which every subcommand takes: where relayctl finds relayd's configuration,
/// control socket and spool.
struct DaemonOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "relayd's configuration file (YAML). Default: $RELAY_CONFIG, else the built-in defaults.", valueName: "path"),
        completion: .file(extensions: ["yaml", "yml"]))
    var config: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "relayd's control socket. Default: $RELAY_CONTROL_SOCKET, else listen.control of the configuration.",
            valueName: "path"),
        completion: .file())
    var socket: String?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The configuration, as relayd would load it; a bad one ends relayctl with its error (exit 1).
    func settings() throws(RelayctlFailure) -> RelaySettings {
        let file = ConfigFileLocation.resolve(flag: config, environment: environment)
        do {
            return try RelaySettings.load(configFile: file, environment: environment, defaultHostname: ProcessInfo.processInfo.hostName)
        } catch {
            throw RelayctlFailure(.notDone, "\(error)")
        }
    }

    /// The control socket's path; the configuration is read only when neither flag nor variable names it.
    func socketPath() throws(RelayctlFailure) -> String {
        try ControlSocketLocation.resolve(flag: socket, environment: environment) { () throws(RelayctlFailure) in
            try settings().listen.control
        }
    }

    /// A connection to relayd for `command`, which needs it: with relayd down relayctl ends with exit 3.
    func connect(for command: String) throws(RelayctlFailure) -> ControlClient {
        let path = try socketPath()
        do throws(ControlClientError) {
            return try ControlClient(path: path)
        } catch {
            if case .unreachable = error {
                throw RelayctlFailure(.unreachable, "relayd is not running (no answer on \(path)); \(command) needs it")
            }
            throw RelayctlFailure(error)
        }
    }

    /// relayd for the read-only commands, or with relayd down the spool itself, read directly (said in one
    /// line on stderr).
    func queueSource() throws(RelayctlFailure) -> QueueSource {
        let path = try socketPath()
        do throws(ControlClientError) {
            return .daemon(try ControlClient(path: path))
        } catch {
            guard case .unreachable = error else { throw RelayctlFailure(error) }
            let spool = try settings().spool.path
            StandardStreams.printError("relayd is not running (no answer on \(path)); reading the spool at \(spool) directly")
            return .spool(SpoolInspector(root: spool, io: BlockingIOPool(threads: 2)))
        }
    }
}
