import ArgumentParser
import Foundation
import RelayConfiguration

/// relayctl: the operator's view of relayd. Queue commands arrive with the control channel.
@main
struct Relayctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relayctl",
        abstract: "Inspect and steer a MailRelay daemon.",
        subcommands: [CheckConfig.self])
}

/// `relayctl check-config`: validate a configuration and print the effective settings, secrets masked.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and print the effective settings with secrets masked.")

    @Option(name: .long, help: "Configuration file (YAML). Defaults to $RELAY_CONFIG, else the built-in defaults.")
    var config: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let file = config ?? environment["RELAY_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            let settings = try RelaySettings.load(configFile: file, environment: environment, defaultHostname: ProcessInfo.processInfo.hostName)
            print(settings.redactedDescription, terminator: settings.redactedDescription.hasSuffix("\n") ? "" : "\n")
        } catch {
            FileHandle.standardError.write(Data("relayctl: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
