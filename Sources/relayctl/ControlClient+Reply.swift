import Control

extension ControlClient {
    /// Sends `request` and returns relayd's reply; failures as relayctl's own.
    func reply(to request: ControlRequest) throws(RelayctlFailure) -> ControlReply {
        do throws(ControlClientError) { return try self.request(request) } catch { throw RelayctlFailure(error) }
    }

    /// Hands each message `filter` matches to `each` as it arrives, and returns the listing's summary.
    func listing(_ filter: QueueFilter, each: (QueueEntry) -> Void) throws(RelayctlFailure) -> QueueSummary {
        do throws(ControlClientError) { return try queue(filter, each: each) } catch { throw RelayctlFailure(error) }
    }

    /// The report of a change request.
    func changes(_ request: ControlRequest) throws(RelayctlFailure) -> ChangeReport {
        guard case .changes(let report) = try reply(to: request) else { throw .unexpectedReply(to: request.command) }
        return report
    }
}
