import FoundationEssentials

extension Duration {
    // Largest first, so formatting picks `5d` over `120h`; `ms` must be matched before `m`.
    private static let configUnits: [(suffix: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("ms", 1), ("m", 60_000), ("s", 1_000),
    ]

    /// Parses `250ms`, `90s`, `5m`, `1h`, `5d` or a sum like `1h30m`; nil when malformed or without a unit.
    public init?(configText text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total: Int64 = 0
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(digits.count)
            // A bare number is refused: "90" could mean seconds or milliseconds, and guessing wrong is costly.
            guard !digits.isEmpty, let number = Int64(digits),
                  let unit = Self.configUnits.first(where: { rest.hasPrefix($0.suffix) })
            else { return nil }
            rest = rest.dropFirst(unit.suffix.count)
            let (part, overflow1) = number.multipliedReportingOverflow(by: unit.milliseconds)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            guard !overflow1, !overflow2 else { return nil }
            total = sum
        }
        self = .milliseconds(total)
    }

    /// The duration in the config syntax, e.g. `1m30s`; sub-millisecond parts are dropped.
    public var configText: String {
        let (seconds, attoseconds) = components
        var remaining = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
        guard remaining > 0 else { return "0s" }
        var text = ""
        for unit in Self.configUnits.sorted(by: { $0.milliseconds > $1.milliseconds }) where remaining >= unit.milliseconds {
            text += "\(remaining / unit.milliseconds)\(unit.suffix)"
            remaining %= unit.milliseconds
        }
        return text
    }
}
