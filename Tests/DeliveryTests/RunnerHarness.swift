import Delivery
import Logging
import RelayTesting
import Spool

/// A queue runner over a temporary spool and a scripted transport, running in a task of its own. With a
/// `gate`, every delivery stays in flight until the gate opens.
final class RunnerHarness: Sendable {
    let temp: TemporarySpoolDirectory
    let transport: ScriptedTransport
    let runner: QueueRunner
    let retry: RetryPolicy
    let task: Task<Void, any Error>

    static let retry = RetryPolicy(
        first: .seconds(60), maximum: .seconds(3600), multiplier: 2, jitter: 0, lifetime: .seconds(5 * 86_400))

    init(
        transport: ScriptedTransport, retry: RetryPolicy = RunnerHarness.retry, workers: Int = 2,
        scanInterval: Duration = .seconds(60), gate: Gate? = nil, metrics: DeliveryMetrics = DeliveryMetrics()
    ) throws {
        temp = try TemporarySpoolDirectory()
        self.transport = transport
        self.retry = retry
        runner = QueueRunner(
            spool: temp.spool, transport: gate.map { GatedTransport(transport, gate: $0) as any DeliveryTransport } ?? transport,
            configuration: .init(workers: workers, retry: retry, scanInterval: scanInterval),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), metrics: metrics)
        let runner = self.runner
        task = Task { try await runner.run() }
    }

    var spool: Spool { temp.spool }

    /// Whether `id` has left the spool, and the attempt that removed it has ended, within the timeout. The
    /// files go before the attempt ends: a change made in between waits for that attempt and then reports
    /// `.alreadyDelivered` rather than `.notFound`.
    func waitUntilRemoved(_ id: QueueID) async -> Bool {
        let spool = self.spool
        let runner = self.runner
        return await eventually {
            do { _ = try await spool.read(id); return false } catch {
                guard (error as? SpoolError) == .notFound(id) else { return false }
                return await !runner.activeIDs().contains(id)
            }
        }
    }

    /// The recorded state once it shows `attempts` attempts.
    func waitForState(_ id: QueueID, attempts: Int) async -> DeliveryState? {
        let spool = self.spool
        guard await eventually({ (try? await spool.loadState(id))?.attempts ?? 0 >= attempts }) else { return nil }
        return try? await spool.loadState(id)
    }

    /// Flushes until the transport has seen `calls` attempts (the deferral may not be recorded yet at the
    /// first flush, so one flush could find nothing waiting).
    func flushUntil(calls: Int) async -> Bool {
        await eventually {
            await self.runner.flushAll()
            return self.transport.callCount >= calls
        }
    }

    /// Cancels the runner and removes the spool directory.
    func stop() {
        task.cancel()
        temp.remove()
    }
}
