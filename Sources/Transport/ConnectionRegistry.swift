import Threading

/// A server's connections in progress and whether each waits for its peer's next command, so a graceful
/// shutdown can send the idle ones away at once while busy ones finish (SMTP sessions, control connections).
public final class ConnectionRegistry: Sendable {
    private struct Entry {
        var connection: TCPConnection
        var idle: Bool
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var nextKey = 0
        var draining = false
    }

    private let state = Locked(State())

    public init() {}

    /// Connections in progress.
    public var count: Int { state.withLock { $0.entries.count } }

    /// Adds a connection; returns its key.
    public func add(_ connection: TCPConnection) -> Int {
        state.withLock { s in
            s.nextKey += 1
            s.entries[s.nextKey] = Entry(connection: connection, idle: false)
            return s.nextKey
        }
    }

    /// Removes a connection; call before closing it, so shutdown never touches a closed socket.
    public func remove(_ key: Int) {
        _ = state.withLock { $0.entries.removeValue(forKey: key) }
    }

    /// Marks the connection idle (about to wait for a command) or busy. Returns false when the server is
    /// draining and an idle connection should end now.
    public func setIdle(_ key: Int, _ idle: Bool) -> Bool {
        state.withLock { s in
            s.entries[key]?.idle = idle
            return !(idle && s.draining)
        }
    }

    /// Starts draining: idle connections are interrupted now; busy ones when they next become idle.
    public func drain() {
        state.withLock { s in
            s.draining = true
            for entry in s.entries.values where entry.idle {
                entry.connection.interruptReads()
            }
        }
    }
}
