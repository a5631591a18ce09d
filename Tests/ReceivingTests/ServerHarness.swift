#if canImport(Glibc)
import Glibc
#endif
import Logging
import Receiving
import RelayTesting
import Spool
import Transport

/// An `SMTPServer` on an ephemeral loopback port over a given spool, running in a task of its own.
final class ServerHarness: Sendable {
    let server: SMTPServer
    let spool: Spool
    let task: Task<Void, any Error>

    static func configuration(
        host: String = "127.0.0.1", allowed: [String] = ["127.0.0.0/8", "::1/128"], maxMessageSize: Int = 1 << 20,
        maxConnections: Int = 10
    ) -> SMTPServerConfiguration {
        SMTPServerConfiguration(
            hostname: "test.example", listen: [ListenAddress(host: host, port: 0)],
            policy: RelayPolicy(allowedNetworks: allowed.compactMap(IPNetwork.init)), maxMessageSize: maxMessageSize,
            maxRecipients: 100, maxConnections: maxConnections, commandTimeout: .seconds(60),
            dataTimeout: .seconds(60), shutdownGrace: .milliseconds(200))
    }

    init(
        spool: Spool, configuration: SMTPServerConfiguration = ServerHarness.configuration(),
        metrics: ReceivingMetrics = ReceivingMetrics()
    ) throws {
        self.spool = spool
        server = try SMTPServer(
            configuration: configuration, spool: spool,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), metrics: metrics)
        let server = self.server
        task = Task { try await server.run() }
    }

    var address: ListenAddress { server.boundAddresses[0] }

    /// A new client connection whose 220 greeting has been read and checked.
    func connect() async throws -> SMTPTestClient {
        let client = try await SMTPTestClient.connect(host: address.host, port: address.port)
        let greeting = try await client.readReply()
        guard greeting.code == 220 else { throw SMTPTestClientError.malformed("greeting: \(greeting)") }
        return client
    }

    /// Cancels the server; returns whether `run()` ended in time (generously: a loaded test process can be
    /// slow to run the tasks involved; a server that ignores cancellation never ends).
    func stop() async -> Bool {
        task.cancel()
        return await task.finishes(within: .seconds(30))
    }
}

extension SMTPTestReply {
    /// The id from `250 2.0.0 Ok: queued as <id>`.
    var queuedID: QueueID? {
        guard code == 250, let range = text.range(of: "queued as ") else { return nil }
        return QueueID(text[range.upperBound...])
    }
}

/// Seconds since the epoch, for bracketing the date in a Received: header.
func now() -> time_t { time(nil) }
