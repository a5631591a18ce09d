#if canImport(Glibc)
import Glibc
#endif

/// Where things live under the spool root.
///
/// - `incoming/`: temporary files of state rewrites; never acknowledged, discarded at start.
/// - `queue/<id>.msg`: committed messages (preamble, envelope, body), written once.
/// - `queue/<id>.state`: delivery state, created at the first deferral and replaced atomically.
/// - `recycle/`: files of finished messages kept for reuse (see `InodeRecycler`); garbage by definition.
/// - `corrupt/`: entries that could not be read, kept for an operator and logged, never deleted silently.
/// - `failed/<id>.msg`, `failed/<id>.state`: finished messages with at least one failed recipient and their
///   final state, kept for an operator until purged. Never scanned or recovered: nothing there is retried.
public struct SpoolLayout: Sendable {
    public let root: String
    public var incoming: String { root + "/incoming" }
    public var queue: String { root + "/queue" }
    public var corrupt: String { root + "/corrupt" }
    public var recycle: String { root + "/recycle" }
    public var failed: String { root + "/failed" }

    public init(root: String) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    }

    public func messagePath(_ id: QueueID) -> String { "\(queue)/\(id).msg" }
    public func statePath(_ id: QueueID) -> String { "\(queue)/\(id).state" }
    public func failedMessagePath(_ id: QueueID) -> String { "\(failed)/\(id).msg" }
    public func failedStatePath(_ id: QueueID) -> String { "\(failed)/\(id).state" }

    /// Creates the directories (and missing parents) with mode 0700.
    public func create() throws(SpoolError) {
        for path in [root, incoming, queue, corrupt, recycle, failed] {
            try SpoolLayout.makeDirectories(path)
        }
    }

    /// Creates `path` and its missing parents (mode 0700); also for other layers' folders such as the outbox.
    public static func makeDirectories(_ path: String) throws(SpoolError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o700) != 0, errno != EEXIST {
                throw SpoolError.fromErrno("mkdir", current)
            }
        }
    }
}
