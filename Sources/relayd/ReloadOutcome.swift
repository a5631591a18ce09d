import RelayConfiguration

/// What one configuration reload did.
enum ReloadOutcome: Sendable, Equatable {
    /// New values are in force (`change.applied`); `change.needsRestart` wait for a restart.
    case applied(SettingsChange)
    /// The files hold what is already in force.
    case unchanged
    /// The new configuration could not be used; the running one stays. The reason names file, key and problem.
    case refused(String)

    var isRefused: Bool {
        if case .refused = self { return true }
        return false
    }
}
