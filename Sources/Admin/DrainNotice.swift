import ServiceLifecycle
import Synchronization

/// Tells the admin endpoint that graceful shutdown has begun, before any other service stops.
///
/// A `ServiceGroup` signals graceful shutdown one service at a time, last listed first, and waits for each to
/// end before signalling the next. The admin server is listed first so it answers until everything else has
/// stopped, which means it hears of the shutdown last; this service, listed last, hears of it first, marks
/// draining and ends, so `/readyz` fails while the SMTP listener is still open.
public final class DrainNotice: Service, Sendable {
    private let draining = Atomic(false)

    public init() {}

    /// True from the moment graceful shutdown (or cancellation) reached this service.
    public var isDraining: Bool { draining.load(ordering: .acquiring) }

    public func run() async throws {
        // Throws only on cancellation: the process is going away either way.
        try? await gracefulShutdown()
        draining.store(true, ordering: .releasing)
    }
}
