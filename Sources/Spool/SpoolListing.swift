/// The messages a `SpoolReader` found in `queue/` and `failed/`, ordered by id, before reading them:
/// what lets a listing be read, and shown, a range at a time.
public struct SpoolListing: Sendable {
    /// One listed message file.
    struct Candidate: Sendable {
        var id: QueueID
        var location: SpoolEntry.Location
        var hasState: Bool
    }

    let candidates: [Candidate]
    /// `queue/` entries unreadable by their names alone (a `.msg` whose name is not a queue id).
    public let unreadable: [SpoolError]
    /// The ids listed in `failed/`, when failed messages are wanted.
    let failedIDs: Set<QueueID>?

    init(candidates: [Candidate], unreadable: [SpoolError], failedIDs: Set<QueueID>?) {
        self.candidates = candidates
        self.unreadable = unreadable
        self.failedIDs = failedIDs
    }

    /// Message files listed (a message retired during the listing may count twice; reading keeps one).
    public var count: Int { candidates.count }

    /// Consecutive ranges of about `size` positions covering the listing, for `SpoolReader.read`; a range
    /// never ends between two listings of the same id.
    public func chunks(of size: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        while start < candidates.count {
            var end = min(candidates.count, start + max(1, size))
            while end < candidates.count, candidates[end].id == candidates[end - 1].id { end += 1 }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }
}
