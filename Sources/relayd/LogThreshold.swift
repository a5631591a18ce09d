import Logging
import Synchronization

/// The lowest level relayd logs at, shared by every logger so a configuration reload can change `log.level`.
final class LogThreshold: Sendable {
    private let index: Atomic<Int>
    private static let levels = Logger.Level.allCases

    init(_ level: Logger.Level) {
        index = Atomic(Self.levels.firstIndex(of: level) ?? 0)
    }

    var level: Logger.Level {
        get { Self.levels[index.load(ordering: .relaxed)] }
        set { index.store(Self.levels.firstIndex(of: newValue) ?? 0, ordering: .relaxed) }
    }
}
