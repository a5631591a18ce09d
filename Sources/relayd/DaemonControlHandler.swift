import Control
import Delivery
import Spool

/// relayd's answers to relayctl: listings read from the spool's files (through `SpoolInspector`, with the
/// messages being delivered marked active), and every change made through the queue runner, which takes the
/// message from delivery first, so a change never races an attempt in progress.
struct DaemonControlHandler: ControlHandler {
    let inspector: SpoolInspector
    let runner: QueueRunner
    let memoryTrimmer: IdleMemoryTrimmer
    let reloader: ConfigReloader

    /// Listings at least this long leave enough freed heap behind to be worth handing back.
    static let bigListing = 10_000

    func queue(_ filter: QueueFilter, emit: (QueueEntry) async throws -> Void) async throws -> QueueSummary {
        defer { noteListing() }
        return try await inspector.queue(filter, active: await runner.activeIDs(), emit: emit)
    }

    /// A listing copies the whole catalog (100,000 messages: ~20 MiB, freed at its end): ask for the heap back.
    private func noteListing() {
        if (inspector.catalog?.count ?? 0) >= Self.bigListing { memoryTrimmer.noteBurst() }
    }

    func show(_ id: QueueID) async throws(ControlError) -> MessageDetail {
        try await inspector.show(id, active: await runner.activeIDs().contains(id))
    }

    func showRaw(_ id: QueueID) async throws(ControlError) -> RawMessage {
        try await inspector.showRaw(id)
    }

    func flush(_ ids: [QueueID]?) async throws(ControlError) -> ChangeReport {
        guard let ids else {
            return ChangeReport(items: await runner.flushAll().map { ChangeReport.Item(id: $0, result: .done) })
        }
        return try Self.report(ids, await runner.flush(ids))
    }

    func hold(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport {
        try await each(ids) { await runner.hold($0) }
    }

    func release(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport {
        try await each(ids) { await runner.release($0) }
    }

    func delete(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport {
        try await each(ids) { await runner.delete($0) }
    }

    /// Every message in `state` as the spool shows it now; each is then deleted through the runner like a
    /// named one (a message that left that state meanwhile is still deleted: the operator chose it).
    func delete(state: ControlRequest.DeletableState) async throws(ControlError) -> ChangeReport {
        let entryState: QueueEntry.State = switch state {
        case .failed: .failed
        case .deferred: .deferred
        case .held: .held
        }
        var ids: [QueueID] = []
        do {
            _ = try await inspector.queue(QueueFilter(states: [entryState]), active: []) { ids.append($0.id) }
        } catch let error as ControlError {
            throw error
        } catch {
            throw ControlError(.internal, "cannot list the queue: \(error)")
        }
        return try await delete(ids)
    }

    func stats() async throws(ControlError) -> QueueStatistics {
        defer { noteListing() }
        let delivery = await runner.statistics()
        var statistics = try await inspector.statistics(active: await runner.activeIDs())
        statistics.lastHour = .init(delivered: delivery.delivered, deferred: delivery.deferred, bounced: delivery.bounced)
        statistics.upstreams = delivery.upstream.map { upstream in
            [.init(endpoint: upstream.endpoint, reachable: upstream.reachable, lastError: upstream.lastError,
                   lastErrorAt: upstream.lastErrorAt.map { Int($0) })]
        } ?? []
        return statistics
    }

    func awaitOutcome(_ id: QueueID, timeout: Duration) async throws(ControlError) -> AttemptOutcome? {
        guard let record = await runner.awaitOutcome(of: id, timeout: timeout) else { return nil }
        return AttemptOutcome(id: record.id, relay: record.relay, recipients: record.recipients.map { recipient in
            let status: AttemptOutcome.Recipient.Status = switch recipient.status {
            case .sent: .sent
            case .deferred: .deferred
            case .bounced: .bounced
            }
            return .init(address: recipient.address, status: status, reply: recipient.reply)
        })
    }

    func reload() async throws(ControlError) -> ReloadReport {
        switch await reloader.reload(trigger: "relayctl") {
        case .applied(let change): ReloadReport(result: .applied, applied: change.applied, needsRestart: change.needsRestart)
        case .unchanged: ReloadReport(result: .unchanged)
        case .refused(let reason): ReloadReport(result: .refused, error: reason)
        }
    }

    private func each(_ ids: [QueueID], _ change: (QueueID) async -> QueueOperationOutcome) async throws(ControlError) -> ChangeReport {
        var outcomes: [QueueOperationOutcome] = []
        for id in ids { outcomes.append(await change(id)) }
        return try Self.report(ids, outcomes)
    }

    /// The runner's outcomes as the wire reports them; a change the spool refused is an error, with its reason.
    private static func report(_ ids: [QueueID], _ outcomes: [QueueOperationOutcome]) throws(ControlError) -> ChangeReport {
        var items: [ChangeReport.Item] = []
        for (id, outcome) in zip(ids, outcomes) {
            switch outcome {
            case .done: items.append(.init(id: id, result: .done))
            case .notFound: items.append(.init(id: id, result: .notFound))
            case .alreadyDelivered: items.append(.init(id: id, result: .alreadyDelivered))
            case .unchanged(let reason): items.append(.init(id: id, result: .unchanged, detail: reason))
            case .failed(let reason): throw ControlError(.internal, "\(id): \(reason)")
            }
        }
        return ChangeReport(items: items)
    }
}
