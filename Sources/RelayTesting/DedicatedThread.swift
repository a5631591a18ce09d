import Foundation

/// Runs blocking work (a blocking socket call, a sleep) on a thread of its own and awaits its result,
/// so it never occupies the cooperative pool, which has only two threads on this machine.
public func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}
