import Foundation
import Spool

/// A spool rooted in its own temporary directory, for one test.
///
/// `Spool` has no shutdown: its commit thread and disk threads live for the rest of the process. Tests
/// therefore open spools with few disk threads; the directory itself is removed when the test ends.
public final class TemporarySpoolDirectory: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let spool: Spool
    public var root: String { spool.layout.root }

    public init(ioThreads: Int = 2) throws {
        directory = try TemporaryDirectory(prefix: "mailrelay-spool")
        spool = try Spool(root: directory.appending("spool"), ioThreads: ioThreads)
    }

    /// Opens a second `Spool` on the same root, as relayd does when it starts again after a crash (which
    /// releases the first one's lock; here the first one lets go explicitly).
    public func reopen() throws -> Spool {
        spool.relinquish()
        return try Spool(root: root, ioThreads: 1)
    }

    /// File names in `incoming/`, `queue/`, `corrupt/` or `recycle/`, sorted.
    public func names(in folder: SpoolFolder) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path(of: folder))) ?? []).sorted()
    }

    /// The folder's path under this spool's root.
    public func path(of folder: SpoolFolder) -> String {
        switch folder {
        case .incoming: spool.layout.incoming
        case .queue: spool.layout.queue
        case .corrupt: spool.layout.corrupt
        case .recycle: spool.layout.recycle
        }
    }

    public func remove() { directory.remove() }
}

/// The spool's sub-folders, for assertions about what is left where.
public enum SpoolFolder: Sendable {
    case incoming, queue, corrupt, recycle
}

/// Runs `body` with a fresh spool and removes its directory afterwards, also when `body` throws.
public func withTemporarySpool<T>(_ body: (TemporarySpoolDirectory) async throws -> T) async throws -> T {
    let temporary = try TemporarySpoolDirectory()
    defer { temporary.remove() }
    return try await body(temporary)
}
