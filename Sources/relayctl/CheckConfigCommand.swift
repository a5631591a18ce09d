import ArgumentParser

/// `relayctl check-config`: validate a configuration and print the effective settings, secrets masked
/// (postfix check).
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and print the effective settings with secrets masked.",
        discussion: "Reads the file, the RELAY_* environment and secret files as relayd would. --socket is not used.")

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let description = try daemon.settings().redactedDescription
        print(description, terminator: description.hasSuffix("\n") ? "" : "\n")
    }
}
