#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Delivery
import FoundationEssentials
import Logging
import Receiving
import RelayConfiguration
import ServiceLifecycle
import Spool
import Transport
import UnixSignals

/// relayd: accepts mail over SMTP, keeps it in the spool, relays it upstream (or into the outbox).
@main
struct Relayd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relayd",
        abstract: "MailRelay daemon: accept mail over SMTP, queue it durably, relay it upstream.",
        discussion: """
            Without --config (or RELAY_CONFIG) relayd uses its built-in defaults: SMTP on 127.0.0.1:2525, \
            spool in ./var/spool and, with no upstream configured, delivery into ./var/outbox. Every key can \
            be overridden by a RELAY_* environment variable; see docs/configuration.md.
            """)

    @Option(name: .long, help: "Configuration file (YAML). Defaults to $RELAY_CONFIG when set.")
    var config: String?

    mutating func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configFile = config ?? environment["RELAY_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let reloadSignals = await UnixSignalsSequence(trapping: .sighup)
        let source = ConfigReloader.Source(configFile: configFile, environment: environment, defaultHostname: Self.hostName())
        // Stamped before reading, so a change made while relayd starts is picked up by the first check.
        var fileStamps = FileStamp.of(configFile.map { [$0] } ?? [])
        let settings: RelaySettings
        do {
            settings = try RelaySettings.load(
                configFile: configFile, environment: environment, defaultHostname: source.defaultHostname)
        } catch {
            var line = Array("relayd: configuration error: \(error)\n".utf8)
            _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
            throw ExitCode(78)  // EX_CONFIG
        }
        for path in settings.referencedFiles where fileStamps[path] == nil { fileStamps[path] = FileStamp.of(path) }
        let threshold = LogThreshold(Logger.Level(rawValue: settings.log.level.rawValue) ?? .info)
        LoggingSystem.bootstrap { label in
            StructuredLogHandler(label: label, format: settings.log.format == .json ? .json : .logfmt, threshold: threshold)
        }
        let logger = Logger(label: "relayd")
        do {
            try await RelayDaemon(
                settings: settings, source: source, fileStamps: fileStamps, logThreshold: threshold,
                reloadSignals: reloadSignals, logger: logger
            ).run()
        } catch let error as StartupError {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}
