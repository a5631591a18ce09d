import Control

/// `relayctl queue`'s filter options as given, and the `QueueFilter` they ask for.
public struct QueueFilterArguments: Sendable, Equatable {
    /// Each `--state` option's states (an option may list several, comma-separated).
    public var states: [[QueueEntry.State]]
    public var from: String?
    public var to: String?
    public var olderThan: Duration?

    public init(states: [[QueueEntry.State]] = [], from: String? = nil, to: String? = nil, olderThan: Duration? = nil) {
        self.states = states
        self.from = from
        self.to = to
        self.olderThan = olderThan
    }

    /// Empty texts restrict nothing, so they are left out.
    public var filter: QueueFilter {
        QueueFilter(
            states: Set(states.joined()), from: from.flatMap { $0.isEmpty ? nil : $0 }, to: to.flatMap { $0.isEmpty ? nil : $0 },
            olderThanSeconds: olderThan.map(DurationArgument.seconds))
    }

    /// Whether anything is filtered out: an empty listing then means "no match" rather than "empty queue".
    public var restricts: Bool {
        filter != .all
    }
}
