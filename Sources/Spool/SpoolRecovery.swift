#if canImport(Glibc)
import Glibc
#endif

/// What a start finds after a crash, applied mechanically before anything else touches the spool.
public struct SpoolRecoveryReport: Sendable {
    /// Temporary files in `incoming/` (never acknowledged) that are now deleted.
    public var discardedIncoming: Int
    public var messages: [QueuedMessage]
    /// Entries moved to `corrupt/`, each with its reason.
    public var quarantined: [SpoolError]
    /// Entries of `failed/` that could not be read; left in place for an operator, and not listed.
    public var unreadableFailed: [SpoolError] = []
}

extension Spool {
    /// Discards unacknowledged receipts, quarantines unreadable entries and returns what is queued.
    /// Nothing is "in flight" on disk (delivery state is only written at the end of an attempt), so
    /// everything queued is simply ready again.
    public func recover() async throws(SpoolError) -> SpoolRecoveryReport {
        let layout = self.layout
        let discarded = try await runBlocking { () throws(SpoolError) -> Int in
            let scanner = SpoolScanner(layout: layout)
            var count = 0
            for name in try scanner.listDirectory(layout.incoming) {
                if unlink("\(layout.incoming)/\(name)") == 0 { count += 1 }
            }
            return count
        }
        let (messages, quarantined) = try await scan()
        // failed/ changes only through this spool from now on, so it is read once, here.
        let failed = try await failedMessages()
        catalog.completed(failed: failed.messages)
        return SpoolRecoveryReport(
            discardedIncoming: discarded, messages: messages, quarantined: quarantined, unreadableFailed: failed.unreadable)
    }
}
