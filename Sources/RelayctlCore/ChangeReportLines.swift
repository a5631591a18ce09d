import Control

/// What `flush`, `hold`, `release` and `delete` print: one `ID: OUTCOME` line per message asked about.
public enum ChangeReportLines {
    /// The line for each item; `done` is the verb's past tense (`held`, `deleted`, …).
    public static func lines(_ report: ChangeReport, done: String) -> [String] {
        report.items.map { item in
            let outcome: String
            switch item.result {
            case .done: outcome = done
            case .notFound: outcome = "not found"
            case .alreadyDelivered: outcome = "already delivered"
            case .unchanged: outcome = item.detail.map { "unchanged: \($0)" } ?? "unchanged"
            }
            return "\(item.id.rawValue): \(outcome)"
        }
    }

    /// Whether any message asked about does not exist (relayctl then exits 1).
    public static func anyNotFound(_ report: ChangeReport) -> Bool {
        report.items.contains { $0.result == .notFound }
    }
}
