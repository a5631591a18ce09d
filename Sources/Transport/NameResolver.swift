#if canImport(Glibc)
import Glibc
#endif
import Threading

/// Turns a host name into socket addresses with getaddrinfo(3), which blocks, so each lookup runs on a
/// thread of its own: never on the cooperative pool (two threads here) nor on the epoll thread.
///
/// A thread per lookup rather than a fixed pool: a lookup stuck in a DNS timeout then holds up only itself,
/// and lookups are as rare as outbound connections. A lookup that outlives its deadline (or its task) is
/// abandoned: the caller gets `.timedOut` (`.cancelled`) at once, and the thread finishes in the background
/// and drops its answer, as getaddrinfo cannot be interrupted.
enum NameResolver {
    /// The addresses of `host` (a name, or a numeric IPv4/IPv6 address, bracketed or not) in getaddrinfo's
    /// order (RFC 6724 preference), without duplicates.
    static func resolve(
        host: String, port: UInt16, deadline: ContinuousClock.Instant
    ) async throws(TransportError) -> [SocketAddress] {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let numeric = SocketAddress(numericHost: bare, port: port) { return [numeric] }
        do {
            return try await withThrowingTaskGroup(of: [SocketAddress].self) { group in
                group.addTask { try await lookup(host: bare, port: port) }
                group.addTask {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    throw TransportError.timedOut
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw .cancelled  // Task.sleep's CancellationError: our own task was cancelled
        }
    }

    /// Runs getaddrinfo on a new thread; the task's cancellation abandons it.
    private static func lookup(host: String, port: UInt16) async throws -> [SocketAddress] {
        let pending = PendingLookup()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard pending.install(continuation) else { return }
                let started = DetachedThread.start { pending.finish(getaddrinfo(host: host, port: port)) }
                if started != 0 { pending.finish(.failure(.system(operation: "pthread_create", errno: started))) }
            }
        } onCancel: {
            pending.finish(.failure(.cancelled))
        }
    }

    /// The blocking call itself.
    private static func getaddrinfo(host: String, port: UInt16) -> Result<[SocketAddress], TransportError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let code = Glibc.getaddrinfo(host, String(port), &hints, &list)
        guard code == 0 else {
            let reason = code == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(code))
            return .failure(.resolution(host: host, reason: reason))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var node = list
        while let entry = node?.pointee {
            if let address = entry.ai_addr.flatMap({ SocketAddress(copying: $0, length: entry.ai_addrlen) }),
               !addresses.contains(where: { $0.sameAddress(as: address) }) {
                addresses.append(address)
            }
            node = entry.ai_next
        }
        return addresses.isEmpty ? .failure(.resolution(host: host, reason: "no addresses")) : .success(addresses)
    }
}

/// One lookup's continuation, resumed exactly once by whichever comes first: the answer or cancellation.
private final class PendingLookup: Sendable {
    private enum State {
        case starting
        case waiting(CheckedContinuation<[SocketAddress], any Error>)
        /// Cancelled before the continuation existed.
        case cancelled
        case finished
    }

    private let state = Locked(State.starting)

    /// Stores the continuation; false (having resumed it with `.cancelled`) if the task was cancelled first.
    func install(_ continuation: CheckedContinuation<[SocketAddress], any Error>) -> Bool {
        let cancelled = state.withLock { state -> Bool in
            if case .cancelled = state { return true }
            state = .waiting(continuation)
            return false
        }
        if cancelled { continuation.resume(throwing: TransportError.cancelled) }
        return !cancelled
    }

    func finish(_ result: Result<[SocketAddress], TransportError>) {
        let continuation = state.withLock { state -> CheckedContinuation<[SocketAddress], any Error>? in
            switch state {
            case .starting:
                state = .cancelled  // only cancellation can come before install
                return nil
            case .waiting(let continuation):
                state = .finished
                return continuation
            case .cancelled, .finished:
                return nil
            }
        }
        continuation?.resume(with: result.mapError { $0 })
    }
}

extension SocketAddress {
    /// Copies an address getaddrinfo returned.
    init?(copying address: UnsafePointer<sockaddr>, length: socklen_t) {
        guard length <= socklen_t(MemoryLayout<sockaddr_storage>.size) else { return nil }
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(length)))
        }
        self.length = length
    }

    /// Same family, address and port.
    func sameAddress(as other: SocketAddress) -> Bool {
        guard length == other.length else { return false }
        return withUnsafeBytes(of: storage) { mine in
            withUnsafeBytes(of: other.storage) { theirs in
                mine.prefix(Int(length)).elementsEqual(theirs.prefix(Int(length)))
            }
        }
    }
}
