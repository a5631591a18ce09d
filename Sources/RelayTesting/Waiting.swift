import Threading

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
/// For effects that happen on other tasks or threads (a delivery, a file appearing). The default timeout
/// is generous because it only costs time when the effect never comes, while a loaded machine (parallel
/// CPU-bound tests on a two-thread cooperative pool) can delay an effect that does come by many seconds.
public func eventually(
    timeout: Duration = .seconds(30), _ condition: @Sendable () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
}

extension Task where Failure == any Error {
    /// Whether the task ends within `timeout`. A task that never ends is left running (a test has
    /// no way to kill it); the caller only learns that it did not end.
    public func finishes(within timeout: Duration) async -> Bool {
        let task = self
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resumed = Locked(false)
            let resumeOnce: @Sendable (Bool) -> Void = { value in
                let first = resumed.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            Task<Void, Never> {
                _ = try? await task.value
                resumeOnce(true)
            }
            Task<Void, Never> {
                try? await Task<Never, Never>.sleep(for: timeout)
                resumeOnce(false)
            }
        }
    }
}
