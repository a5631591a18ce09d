import Control
import Spool

/// Where the read-only commands (queue, show, stats) get their answers: relayd over the control socket, or
/// the spool read directly while relayd is down. Failures arrive as relayctl's own.
enum QueueSource {
    case daemon(ControlClient)
    case spool(SpoolInspector)

    /// Hands each message `filter` matches to `each` as it is read, and returns the listing's summary.
    func queue(_ filter: QueueFilter, each: (QueueEntry) -> Void) async throws(RelayctlFailure) -> QueueSummary {
        switch self {
        case .daemon(let client):
            return try client.listing(filter, each: each)
        case .spool(let inspector):
            do {
                return try await inspector.queue(filter, active: []) { each($0) }
            } catch {
                throw Self.failure(error)
            }
        }
    }

    /// The message's envelope, state and header section.
    func show(_ id: QueueID) async throws(RelayctlFailure) -> MessageDetail {
        switch self {
        case .daemon(let client):
            guard case .detail(let detail) = try client.reply(to: .show(id)) else { throw .unexpectedReply(to: "show") }
            return detail
        case .spool(let inspector):
            do throws(ControlError) { return try await inspector.show(id, active: false) } catch { throw RelayctlFailure(error) }
        }
    }

    /// The message's bytes as queued.
    func showRaw(_ id: QueueID) async throws(RelayctlFailure) -> RawMessage {
        switch self {
        case .daemon(let client):
            guard case .raw(let raw) = try client.reply(to: .showRaw(id)) else { throw .unexpectedReply(to: "show --raw") }
            return raw
        case .spool(let inspector):
            do throws(ControlError) { return try await inspector.showRaw(id) } catch { throw RelayctlFailure(error) }
        }
    }

    /// Counts per state; from relayd also the last hour's outcomes and the upstreams' health.
    func statistics() async throws(RelayctlFailure) -> QueueStatistics {
        switch self {
        case .daemon(let client):
            guard case .stats(let statistics) = try client.reply(to: .stats) else { throw .unexpectedReply(to: "stats") }
            return statistics
        case .spool(let inspector):
            do throws(ControlError) { return try await inspector.statistics(active: []) } catch { throw RelayctlFailure(error) }
        }
    }

    private static func failure(_ error: any Error) -> RelayctlFailure {
        switch error {
        case let error as ControlError: RelayctlFailure(error)
        case let error as SpoolError: RelayctlFailure(ControlError(error))
        default: RelayctlFailure(.notDone, "\(error)")
        }
    }
}
