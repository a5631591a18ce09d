#if canImport(Glibc)
import Glibc
#endif

/// Starts the spool's long-lived, detached pthreads (commit thread, disk threads): blocking disk work must
/// never run on the cooperative pool or the event loop.
enum WorkerThread {
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    static func start(_ run: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(run)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box)
        precondition(result == 0, "cannot start a spool thread")
        pthread_detach(thread)
    }
}
