/// What a reload found different between the settings in force and a newly loaded set, by key name.
///
/// Names only, never values: a changed password shows as `upstream.password`, so the list can be logged.
public struct SettingsChange: Sendable, Equatable {
    /// Keys whose new values take effect now.
    public var applied: [String]
    /// Keys whose new values wait for a restart (listeners, spool, outbox, worker count, log format); the
    /// running values stay in force until then.
    public var needsRestart: [String]

    public init(applied: [String] = [], needsRestart: [String] = []) {
        self.applied = applied
        self.needsRestart = needsRestart
    }

    public var isEmpty: Bool { applied.isEmpty && needsRestart.isEmpty }
}
