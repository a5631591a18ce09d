import Control

/// The line that ends the queue table: `3 messages, 12.4K — 2 deferred, 1 held; oldest 2h13m`.
public enum QueueSummaryLine {
    public static func text(_ summary: QueueSummary) -> String {
        var line = "\(MessageCount.text(summary.messages)), \(SizeText.format(summary.bytes))"
        let states = QueueEntry.State.allCases.filter { summary.counts[$0] > 0 }.map { "\(summary.counts[$0]) \($0.rawValue)" }
        if !states.isEmpty { line += " — " + states.joined(separator: ", ") }
        if let oldest = summary.oldestAgeSeconds { line += "; oldest \(AgeText.format(seconds: oldest))" }
        return line
    }
}
