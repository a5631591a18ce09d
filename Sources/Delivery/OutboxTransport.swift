#if canImport(Glibc)
import Glibc
#endif
import Spool

/// Delivers into a local folder, one `<queue-id>.eml` per message: for development, tests and installs
/// without an upstream. A file appears complete or not at all (written aside, then renamed), and is
/// durable before the spool lets go of the message (group-synced like the spool).
public final class OutboxTransport: DeliveryTransport {
    public let directory: String
    private let staging: String
    private let commits: GroupCommitQueue

    public var name: String { "outbox" }

    /// `commits` makes deliveries durable; pass `spool.groupCommitQueue(for: directory)` to share the spool's
    /// syncs when both live on one file system. Without it the outbox syncs on its own.
    public init(directory: String, commits: GroupCommitQueue? = nil) throws(SpoolError) {
        self.directory = directory
        staging = directory + "/.tmp"
        try SpoolLayout.makeDirectories(staging)
        if let commits {
            self.commits = commits
        } else {
            self.commits = try GroupCommitQueue(name: "outbox", syncPath: directory)
        }
    }

    public func deliver(_ message: OutboundMessage) async -> DeliveryReport {
        let id = message.envelope.id
        let staged = "\(staging)/\(id).eml"
        let final = "\(directory)/\(id).eml"
        let body = message.body
        do {
            try await commits.commit { () throws(SpoolError) in
                let file = try POSIXFile.create(staged, mode: 0o644)
                do throws(SpoolError) {
                    try file.write(body)
                } catch {
                    file.close()
                    unlink(staged)
                    throw error
                }
                file.close()
                try POSIXFile.rename(staged, to: final)
            }
        } catch {
            return DeliveryReport(relay: name, recipients: message.recipients, outcome: .deferred("outbox: \(error)"))
        }
        return DeliveryReport(relay: name, recipients: message.recipients, outcome: .delivered("250 2.0.0 written to \(final)"))
    }
}
