import Admin
import CoreMetrics
import Logging
import Prometheus
import RelayTesting
import ServiceLifecycle
import Synchronization
import Threading
import Testing
import Transport

/// The admin endpoint over loopback with a real TCP client. Metrics go to a registry of the test's own
/// through a factory passed explicitly: `MetricsSystem.bootstrap` is never called (it traps the second time).
@Suite("AdminServer")
struct AdminServerTests {
    /// A parsed response: status code, fields (names lowercased), body.
    struct Response {
        var status: Int
        var fields: [String: String]
        var body: String
    }

    final class ReadinessSwitch: Sendable {
        let state = Locked(Readiness.ready)
        func set(_ value: Readiness) { state.withLock { $0 = value } }
        func get() -> Readiness { state.withLock { $0 } }
    }

    /// Runs a server on a free loopback port while `body` runs.
    static func withServer<T>(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), readiness: ReadinessSwitch = ReadinessSwitch(),
        beforeScrape: @escaping @Sendable () async -> Void = {}, maxConnections: Int = 64,
        requestTimeout: Duration = .seconds(5), _ body: (UInt16) async throws -> T
    ) async throws -> T {
        let server = try AdminServer(
            address: ListenAddress(host: "127.0.0.1", port: 0), registry: registry,
            logger: Logger(label: "admin") { _ in SwiftLogNoOpLogHandler() },
            readiness: { readiness.get() }, beforeScrape: beforeScrape, maxConnections: maxConnections,
            requestTimeout: requestTimeout)
        let running = Task { try await server.run() }
        defer { running.cancel() }
        return try await body(server.address.port)
    }

    /// Sends `raw`, reads to the end, parses the response.
    static func exchange(_ port: UInt16, _ raw: String) async throws -> Response {
        let socket = try await BlockingSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(30))
        defer { socket.close() }
        try await socket.send(raw)
        return parse(try await socket.receiveToEnd())
    }

    static func get(_ port: UInt16, _ path: String, method: String = "GET") async throws -> Response {
        try await exchange(port, "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n")
    }

    static func parse(_ bytes: [UInt8]) -> Response {
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.split(separator: "\r\n\r\n", maxSplits: 1, omittingEmptySubsequences: false)
        let lines = parts[0].split(separator: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ")[1]) } ?? -1
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            let pair = line.split(separator: ":", maxSplits: 1)
            fields[pair[0].lowercased()] = pair.count > 1 ? String(pair[1].drop { $0 == " " }) : ""
        }
        return Response(status: status, fields: fields, body: parts.count > 1 ? String(parts[1]) : "")
    }

    @Test func livezAnswersOkAndCloses() async throws {
        try await Self.withServer { port in
            let response = try await Self.get(port, "/livez")
            #expect(response.status == 200)
            #expect(response.body == "ok\n")
            #expect(response.fields["content-length"] == "3")
            #expect(response.fields["connection"] == "close")
        }
    }

    @Test func headHasNoBody() async throws {
        try await Self.withServer { port in
            let response = try await Self.get(port, "/livez", method: "HEAD")
            #expect(response.status == 200)
            #expect(response.body == "")
            #expect(response.fields["content-length"] == "3")
        }
    }

    @Test func readyzFollowsTheReadinessCheck() async throws {
        let readiness = ReadinessSwitch()
        try await Self.withServer(readiness: readiness) { port in
            #expect(try await Self.get(port, "/readyz").status == 200)
            readiness.set(.notReady("spool directory /x/queue not writable"))
            let response = try await Self.get(port, "/readyz")
            #expect(response.status == 503)
            #expect(response.body == "not ready: spool directory /x/queue not writable\n")
            readiness.set(.ready)
            #expect(try await Self.get(port, "/readyz").body == "ready\n")
        }
    }

    @Test func unknownPathsMethodsAndGarbage() async throws {
        try await Self.withServer { port in
            #expect(try await Self.get(port, "/nope").status == 404)
            let posted = try await Self.exchange(port, "POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
            #expect(posted.status == 405)
            #expect(posted.fields["allow"] == "GET, HEAD")
            #expect(try await Self.exchange(port, "EHLO client.example\r\n").status == 400)
            #expect(try await Self.exchange(port, "GET / HTTP/1.1\nHost: a\n\n").status == 400)
            #expect(try await Self.exchange(port, "GET /livez HTTP/1.1\r\n\r\n").status == 400, "no Host")
            let huge = try await Self.exchange(port, "GET /" + String(repeating: "a", count: 100_000) + " HTTP/1.1\r\n\r\n")
            #expect(huge.status == 400)
            #expect(huge.body.contains("longer than 8192"))
            #expect(try await Self.exchange(port, "GET /livez HTTP/1.0\r\n\r\n").status == 200)
        }
    }

    @Test func aSilentClientGets408AtTheDeadline() async throws {
        try await Self.withServer(requestTimeout: .milliseconds(300)) { port in
            let started = ContinuousClock.now
            let response = try await Self.exchange(port, "GET /livez HTTP/1.1\r\n")
            #expect(response.status == 408)
            #expect(ContinuousClock.now - started >= .milliseconds(250))
        }
    }

    @Test func connectionsOverTheLimitGet503() async throws {
        try await Self.withServer(maxConnections: 1, requestTimeout: .seconds(60)) { port in
            let holder = try await BlockingSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(30))
            defer { holder.close() }
            try await holder.send("GET /livez HTTP/1.1\r\n")  // the head never ends: the slot stays taken
            let refused = await eventually(timeout: .seconds(10)) {
                (try? await Self.get(port, "/livez").status) == 503
            }
            #expect(refused)
            try await holder.send("Host: a\r\n\r\n")
            #expect(Self.parse(try await holder.receiveToEnd()).status == 200)
            #expect(await eventually { (try? await Self.get(port, "/livez").status) == 200 })
        }
    }

    @Test func metricsShowWhatWasCountedThroughSwiftMetrics() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let counter = CoreMetrics.Counter(label: "mailrelay_test_events_total", dimensions: [("kind", "a")], factory: factory)
        let gauge = CoreMetrics.Gauge(label: "mailrelay_test_level", factory: factory)
        let scrapes = ScrapeCount()
        try await Self.withServer(registry: registry, beforeScrape: {
            gauge.record(scrapes.value.add(1, ordering: .relaxed).newValue * 10)
        }) { port in
            counter.increment(by: 3)
            let response = try await Self.get(port, "/metrics")
            #expect(response.status == 200)
            #expect(response.fields["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(response.body.contains("# TYPE mailrelay_test_events_total counter\n"))
            #expect(response.body.contains("mailrelay_test_events_total{kind=\"a\"} 3\n"))
            #expect(response.body.contains("mailrelay_test_level 10"), "gauges are refreshed before the scrape")
            #expect(response.fields["content-length"] == "\(response.body.utf8.count)")
            #expect(try await Self.get(port, "/metrics").body.contains("mailrelay_test_level 20"))
        }
    }

    final class ScrapeCount: Sendable {
        let value = Atomic(0)
    }

    /// A service that, told to shut down, waits until the test lets it go: the SMTP listener with a session
    /// still finishing its message.
    final class HeldService: Service, Sendable {
        let released = Atomic(false)
        let stopping = Atomic(false)
        func run() async throws {
            try? await gracefulShutdown()
            stopping.store(true, ordering: .releasing)
            while !released.load(ordering: .acquiring), !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    @Test func readyzFailsAsSoonAsShutdownStartsWhileLivezStillAnswers() async throws {
        let drain = DrainNotice()
        let held = HeldService()
        let logger = Logger(label: "group") { _ in SwiftLogNoOpLogHandler() }
        let server = try AdminServer(
            address: ListenAddress(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry(), logger: logger,
            readiness: { drain.isDraining ? .notReady("shutting down") : .ready })
        let port = server.address.port
        // The order relayd uses: admin first (stops last), the drain notice last (hears of the shutdown first).
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server), .init(service: held), .init(service: drain)], logger: logger))
        let running = Task { try await group.run() }
        defer { running.cancel() }

        #expect(await eventually { (try? await Self.get(port, "/readyz").status) == 200 })
        await group.triggerGracefulShutdown()
        #expect(await eventually { held.stopping.load(ordering: .acquiring) })
        let draining = try await Self.get(port, "/readyz")
        #expect(draining.status == 503)
        #expect(draining.body == "not ready: shutting down\n")
        #expect(try await Self.get(port, "/livez").status == 200, "still alive while the others stop")

        held.released.store(true, ordering: .releasing)
        #expect(await running.finishes(within: .seconds(30)))
        await #expect(throws: (any Error).self) { try await Self.get(port, "/livez") }
    }
}
