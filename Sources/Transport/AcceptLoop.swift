#if canImport(Glibc)
import Glibc
#endif

/// The accept loop both listeners share, on a non-blocking listening socket: retries what a client's early
/// hang-up causes, waits on the event loop while nobody connects, and backs off when out of descriptors.
enum AcceptLoop {
    /// The next accepted descriptor. `descriptor` reads the listening socket (negative once closed:
    /// `.closed`); `accept` makes one `accept4` call and returns its result.
    static func next(
        descriptor: () -> Int32, loop: EventLoop, name: String, _ accept: (Int32) -> Int32
    ) async throws -> Int32 {
        while true {
            let fd = descriptor()
            guard fd >= 0 else { throw TransportError.closed }
            let client = accept(fd)
            if client >= 0 { return client }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO:
                continue
            case EAGAIN, EWOULDBLOCK:
                // `close()` may run on another thread: the wait registers only while this is still our socket.
                try await loop.wait(for: .readable, on: fd, deadline: nil, stillOpen: { descriptor() == fd })
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                // Out of descriptors: back off instead of spinning; clients wait in the backlog meanwhile.
                try await Task.sleep(for: .milliseconds(100))
            default:
                throw TransportError.lastError(name)
            }
        }
    }
}
