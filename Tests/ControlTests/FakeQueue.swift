import Control
import Spool
import Threading

/// Stands in for relayd's queue behind the control socket: answers from fixed data and records what it was
/// asked, so tests see exactly what the server passed on.
final class FakeQueue: ControlHandler {
    let entries: [QueueEntry]
    /// The listing fails with a disk error after this many entries.
    let failListingAfter: Int?
    let outcome: AttemptOutcome?
    private let recorded = Locked<[ControlRequest]>([])

    init(entries: [QueueEntry] = [], failListingAfter: Int? = nil, outcome: AttemptOutcome? = nil) {
        self.entries = entries
        self.failListingAfter = failListingAfter
        self.outcome = outcome
    }

    /// The requests answered so far, in order.
    var requests: [ControlRequest] { recorded.withLock { $0 } }

    private func record(_ request: ControlRequest) {
        recorded.withLock { $0.append(request) }
    }

    static let diskError = SpoolError.io(operation: "open", path: "/var/spool/relay/queue", errno: 5)

    func queue(_ filter: QueueFilter, emit: (QueueEntry) async throws -> Void) async throws -> QueueSummary {
        record(.queue(filter))
        var summary = QueueSummary()
        for (index, entry) in entries.enumerated() where filter.matches(entry) {
            if index == failListingAfter { throw Self.diskError }
            summary.add(entry)
            try await emit(entry)
        }
        return summary
    }

    func show(_ id: QueueID) async throws(ControlError) -> MessageDetail {
        record(.show(id))
        guard let entry = entries.first(where: { $0.id == id }) else { throw .notFound(id) }
        return MessageDetail(entry: entry, eightBitMIME: false, smtputf8: false, headers: "Subject: x\r\n", headersTruncated: false)
    }

    func showRaw(_ id: QueueID) async throws(ControlError) -> RawMessage {
        record(.showRaw(id))
        throw ControlError(Self.diskError)
    }

    func flush(_ ids: [QueueID]?) async throws(ControlError) -> ChangeReport {
        record(.flush(ids))
        return report(ids ?? entries.map(\.id))
    }

    func hold(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport {
        record(.hold(ids))
        return report(ids)
    }

    func release(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport {
        record(.release(ids))
        return ChangeReport(items: ids.map { .init(id: $0, result: .unchanged, detail: "not held") })
    }

    func delete(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport {
        record(.delete(ids))
        return report(ids)
    }

    func delete(state: ControlRequest.DeletableState) async throws(ControlError) -> ChangeReport {
        record(.deleteState(state))
        return report(entries.filter { $0.state.rawValue == state.rawValue }.map(\.id))
    }

    func stats() async throws(ControlError) -> QueueStatistics {
        record(.stats)
        var summary = QueueSummary()
        for entry in entries { summary.add(entry) }
        return QueueStatistics(queue: summary, lastHour: .init(delivered: 1, deferred: 2, bounced: 3), upstreams: [])
    }

    func awaitOutcome(_ id: QueueID, timeout: Duration) async throws(ControlError) -> AttemptOutcome? {
        record(.awaitOutcome(id, timeoutSeconds: Int(timeout.components.seconds)))
        if let outcome, outcome.id == id { return outcome }
        try? await Task.sleep(for: .milliseconds(100))
        return nil
    }

    private func report(_ ids: [QueueID]) -> ChangeReport {
        ChangeReport(items: ids.map { id in
            entries.contains { $0.id == id } ? .init(id: id, result: .done) : .init(id: id, result: .notFound, detail: "no such message")
        })
    }

    func reload() async throws(ControlError) -> ReloadReport {
        record(.reload)
        return ReloadReport(result: .applied, applied: ["retry.first"], needsRestart: ["listen.smtp"])
    }
}
