#if canImport(Glibc)
import Glibc
#endif
import Admin
import Control
import Delivery
import Logging
import Receiving
import SMTPProtocol
import RelayConfiguration
import ServiceLifecycle
import Spool
import Transport
import UnixSignals

/// Why relayd could not start, worded for the operator.
struct StartupError: Error, CustomStringConvertible {
    var description: String
}

/// Wires the layers together from settings and runs them as one service group.
struct RelayDaemon {
    let settings: RelaySettings
    /// Where the settings came from, read again on reload.
    let source: ConfigReloader.Source
    /// The config file and the files it names as they were before the settings were read.
    let fileStamps: [String: FileStamp]
    let logThreshold: LogThreshold
    /// SIGHUP, trapped before anything else so that an early one cannot end the process.
    let reloadSignals: UnixSignalsSequence
    let logger: Logger

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        raiseDescriptorLimit()
        // Before any service is made: metrics created earlier would go to swift-metrics' no-op backend.
        let metricsRegistry = MetricsBackend.bootstrap()

        let spool: Spool
        var report: SpoolRecoveryReport
        do {
            spool = try Spool(root: settings.spool.path)
            report = try await spool.recover()
        } catch {
            throw StartupError(description: "spool \(settings.spool.path): \(error)")
        }
        for problem in report.quarantined {
            logger.error("quarantined unreadable queue entry", metadata: ["reason": "\(problem)"])
        }
        for problem in report.unreadableFailed {
            logger.error("unreadable entry in failed/, not listed", metadata: ["reason": "\(problem)"])
        }
        logger.info("spool recovered", metadata: [
            "path": "\(settings.spool.path)", "queued": "\(report.messages.count)",
            "discarded_incoming": "\(report.discardedIncoming)", "quarantined": "\(report.quarantined.count)",
        ])

        // Delivery gets an event loop of its own; receiving keeps the shared one (see EventLoop.init).
        let deliveryLoop = EventLoop()
        let transport: any DeliveryTransport
        var upstreamService: UpstreamTransport?
        let workers: Int
        if settings.upstream.host.isEmpty {
            do {
                try SpoolLayout.makeDirectories(settings.outbox.path)
                transport = try OutboxTransport(
                    directory: settings.outbox.path, commits: spool.groupCommitQueue(for: settings.outbox.path))
            } catch {
                throw StartupError(description: "outbox \(settings.outbox.path): \(error)")
            }
            workers = 8
            logger.notice("no upstream configured: delivering accepted mail to the outbox", metadata: [
                "outbox": "\(settings.outbox.path)"])
        } else {
            let upstreamTransport = try makeUpstreamTransport(loop: deliveryLoop)
            transport = upstreamTransport
            upstreamService = upstreamTransport
            workers = settings.upstream.connections
        }

        let server: SMTPServer
        do {
            server = try SMTPServer(configuration: settings.smtpServerConfiguration(), spool: spool, logger: logger)
        } catch let error as ComponentSetupError {
            throw StartupError(description: "\(error)")
        } catch {
            throw StartupError(description: "cannot listen: \(error)")
        }

        let runner = QueueRunner(
            spool: spool, transport: transport,
            configuration: settings.queueRunnerConfiguration(workers: workers, executor: deliveryLoop), logger: logger)
        await runner.enqueue(report.messages)
        report.messages = []  // a big queue's hundred thousand entries: not to be kept for the daemon's life
        let trimmer = IdleMemoryTrimmer(server: server)
        trimmer.noteBurst()  // the recovery's scan

        let reloader = ConfigReloader(
            settings: settings, stamps: fileStamps, source: source,
            targets: .init(
                server: server, runner: runner, upstream: upstreamService, deliveryLoop: deliveryLoop, workers: workers,
                logThreshold: logThreshold),
            signals: reloadSignals, logger: logger)

        let control: ControlServer
        do {
            control = try ControlServer(
                path: settings.listen.control,
                handler: DaemonControlHandler(
                    inspector: SpoolInspector(root: settings.spool.path, io: BlockingIOPool(threads: 1), catalog: spool.catalog),
                    runner: runner, memoryTrimmer: trimmer, reloader: reloader),
                logger: logger)
        } catch {
            throw StartupError(description: "control socket \(settings.listen.control): \(error)")
        }

        // Services stop in reverse order: the listener first, then deliveries in flight finish.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: trimmer)]
        if let upstreamService { services.append(.init(service: upstreamService)) }
        services += [.init(service: runner), .init(service: server), .init(service: control), .init(service: reloader)]
        if let adminAddress = settings.listen.admin {
            // The admin endpoint goes first, so it stops last and answers while the rest winds down; the drain
            // notice goes last, so it hears of a shutdown first and /readyz fails before the SMTP listener
            // closes (see DrainNotice).
            let drain = DrainNotice()
            let readiness = RelayReadiness(server: server, spool: SpoolLayout(root: settings.spool.path), drain: drain)
            let gauges = ScrapeGauges(server: server, runner: runner, catalog: spool.catalog)
            let admin: AdminServer
            do {
                admin = try AdminServer(
                    address: adminAddress, registry: metricsRegistry, logger: logger,
                    readiness: { readiness.check() }, beforeScrape: { await gauges.refresh() })
            } catch {
                throw StartupError(description: "cannot listen on listen.admin \(adminAddress): \(error)")
            }
            services.insert(.init(service: admin), at: 0)
            services.append(.init(service: drain))
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        logger.info("relayd started", metadata: [
            "hostname": "\(settings.hostname)", "config": "\(source.configFile ?? "built-in defaults")",
            "pid": "\(getpid())"])
        try await group.run()
        logger.info("relayd stopped")
    }

    /// The upstream relay from `upstream:` / `upstreams:`, with TLS contexts loaded now so a bad CA file
    /// stops start-up.
    private func makeUpstreamTransport(loop: EventLoop) throws -> UpstreamTransport {
        let configurations: [UpstreamConfiguration]
        do {
            configurations = try settings.upstreamConfigurations(loop: loop, logger: logger)
        } catch {
            throw StartupError(description: "\(error)")
        }
        let primary = configurations[0], fallbacks = Array(configurations.dropFirst())
        logger.notice("relaying accepted mail to the upstream", metadata: [
            "upstream": "\(primary.endpoint)", "tls": "\(settings.upstream.tls.rawValue)",
            "auth": "\(settings.upstream.username.isEmpty ? "none" : settings.upstream.username)",
            "connections": "\(settings.upstream.connections)",
            "fallbacks": "\(fallbacks.isEmpty ? "none" : fallbacks.map(\.endpoint).joined(separator: ","))"])
        return UpstreamTransport(configuration: primary, fallbacks: fallbacks, logger: logger)
    }

    /// Thousands of idle sessions need thousands of descriptors; the soft limit is often 1024.
    private func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}
