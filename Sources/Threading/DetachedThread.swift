#if canImport(Glibc)
import Glibc
#endif

/// Starts a detached pthread, for work that must stay off the cooperative pool: the event loop, blocking
/// calls (`getaddrinfo`, disk I/O), the spool's commit thread.
public enum DetachedThread {
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Returns pthread_create's result (0 when the thread runs).
    public static func start(_ run: @escaping @Sendable () -> Void) -> Int32 {
        let box = Unmanaged.passRetained(Body(run)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box)
        if result == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<Body>.fromOpaque(box).release()
        }
        return result
    }
}
