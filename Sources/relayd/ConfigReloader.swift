import Delivery
import Logging
import Receiving
import RelayConfiguration
import ServiceLifecycle
import Transport
import UnixSignals

/// Reloads relayd's configuration on SIGHUP, on `relayctl reload`, and when the config file or a file it
/// names (password_file, ca_file) changes on disk — which is how Kubernetes delivers an edited ConfigMap or a
/// rotated Secret.
///
/// A reload is all or nothing: the new configuration is loaded and checked exactly as at start-up, the new
/// upstream TLS contexts are built, and only then is anything switched over; any problem refuses it with one
/// log line and the running configuration stays. Sessions in progress are not touched: new SMTP sessions and
/// new upstream connections use the new settings (see `SMTPServer.reconfigure`,
/// `UpstreamTransport.reconfigure`, `QueueRunner.reconfigure`). Listener addresses, the spool and outbox
/// paths, `upstream.connections` and `log.format` need a restart; a change to them is logged as such and the
/// running value stays.
///
/// We poll file stamps rather than use swift-configuration's ReloadingFileProvider: relayd's file is read
/// through Yams (for `upstreams:`), the secret and CA files must be watched too, and a reload must replace
/// the whole checked settings at once instead of single values as they change.
actor ConfigReloader: Service {
    /// How relayd was configured at start-up; the same file and environment are read again on reload.
    struct Source: Sendable {
        var configFile: String?
        var environment: [String: String]
        var defaultHostname: String
    }

    /// The running parts a reload reconfigures.
    struct Targets: Sendable {
        var server: SMTPServer
        var runner: QueueRunner
        /// nil when mail goes to the outbox.
        var upstream: UpstreamTransport?
        var deliveryLoop: EventLoop
        var workers: Int
        var logThreshold: LogThreshold
    }

    private let source: Source
    private let targets: Targets
    private let signals: UnixSignalsSequence
    private let logger: Logger
    private let metrics: ReloadMetrics
    private var settings: RelaySettings
    /// The watched files as they were when the settings in force were read: a CA file differing from this
    /// has new contents to load even though its path in the settings is the same.
    private var appliedStamps: [String: FileStamp]
    /// The watched files as the last check saw them, so a refused configuration is reported once, not on
    /// every poll.
    private var seenStamps: [String: FileStamp]

    /// `stamps` are the watched files' stamps taken before `settings` were read at start-up.
    init(
        settings: RelaySettings, stamps: [String: FileStamp], source: Source, targets: Targets,
        signals: UnixSignalsSequence, logger: Logger, metrics: ReloadMetrics = ReloadMetrics()
    ) {
        self.settings = settings
        self.appliedStamps = stamps
        self.seenStamps = stamps
        self.source = source
        self.targets = targets
        self.signals = signals
        self.logger = logger
        self.metrics = metrics
    }

    /// The files whose change means a reload: the config file and the files it names.
    static func watchedFiles(configFile: String?, settings: RelaySettings) -> [String] {
        (configFile.map { [$0] } ?? []) + settings.referencedFiles
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in self.signals { await self.reload(trigger: "SIGHUP") }
                }
                group.addTask { await self.watchFiles() }
            }
        }
    }

    /// Checks the watched files every `reload.watch_interval` (read anew each round, as a reload may change
    /// it; zero pauses watching).
    private func watchFiles() async {
        while !Task.isCancelled {
            let interval = settings.reload.watchInterval
            try? await Task.sleep(for: interval > .zero ? interval : .seconds(1))
            guard interval > .zero, !Task.isCancelled else { continue }
            let stamps = FileStamp.of(seenStamps.keys)
            if stamps != seenStamps { reload(trigger: "file change") }
        }
    }

    /// Loads the configuration again and switches to it if it is usable. `trigger` names the cause in the log.
    @discardableResult
    func reload(trigger: String) -> ReloadOutcome {
        let before = FileStamp.of(seenStamps.keys)
        let outcome = load(stamps: before)
        metrics.record(outcome)
        switch outcome {
        case .applied(let change):
            if !change.applied.isEmpty {
                logger.notice("configuration reloaded", metadata: [
                    "trigger": "\(trigger)", "changed": "\(change.applied.joined(separator: ","))"])
            }
            for key in change.needsRestart {
                logger.warning("configuration change needs a restart; the running value stays until then", metadata: [
                    "trigger": "\(trigger)", "key": "\(key)"])
            }
        case .unchanged:
            logger.info("configuration reloaded, nothing changed", metadata: ["trigger": "\(trigger)"])
        case .refused(let reason):
            logger.error("configuration reload refused; the running configuration stays in force", metadata: [
                "trigger": "\(trigger)", "error": "\(reason)"])
        }
        return outcome
    }

    /// Everything happens without suspending, so two reloads (a SIGHUP during a file change) cannot interleave.
    private func load(stamps before: [String: FileStamp]) -> ReloadOutcome {
        let new: RelaySettings
        do {
            new = try RelaySettings.load(
                configFile: source.configFile, environment: source.environment, defaultHostname: source.defaultHostname)
        } catch {
            seenStamps = before
            return .refused("\(error)")
        }
        let (applied, settingsChange) = settings.reloaded(with: new)
        var change = settingsChange
        // Files the new settings name for the first time are stamped now, after they were read.
        let watched = Self.watchedFiles(configFile: source.configFile, settings: applied)
        var stamps = before.filter { watched.contains($0.key) }
        for path in watched where stamps[path] == nil { stamps[path] = FileStamp.of(path) }

        // A CA file, certificate or key with new contents counts as a change of its key: the TLS contexts are
        // built again from it.
        let renewedTLSFiles = applied.contentFiles.filter { file in
            appliedStamps[file.path] != nil && appliedStamps[file.path] != stamps[file.path]
        }.map(\.key)
        change.applied += renewedTLSFiles.filter { !change.applied.contains($0) }
        var upstreams: [UpstreamConfiguration]?
        let upstreamChanged = applied.upstream != settings.upstream || applied.fallbackUpstreams != settings.fallbackUpstreams
            || applied.hostname != settings.hostname || renewedTLSFiles.contains { $0.hasPrefix("upstream") }
        if targets.upstream != nil, upstreamChanged {
            do {
                upstreams = try applied.upstreamConfigurations(loop: targets.deliveryLoop, logger: logger)
            } catch {
                seenStamps = before
                return .refused("\(error)")
            }
        }

        let serverConfiguration: SMTPServerConfiguration
        do {
            serverConfiguration = try applied.smtpServerConfiguration()
        } catch {
            seenStamps = before
            return .refused("\(error)")
        }

        seenStamps = stamps
        appliedStamps = stamps
        guard !change.isEmpty else { return .unchanged }
        targets.server.reconfigure(serverConfiguration)
        targets.runner.reconfigure(applied.queueRunnerConfiguration(workers: targets.workers, executor: targets.deliveryLoop))
        if let upstreams, let transport = targets.upstream {
            transport.reconfigure(configuration: upstreams[0], fallbacks: Array(upstreams.dropFirst()))
        }
        targets.logThreshold.level = Logger.Level(rawValue: applied.log.level.rawValue) ?? .info
        settings = applied
        return .applied(change)
    }
}
