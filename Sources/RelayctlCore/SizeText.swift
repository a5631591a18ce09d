/// A byte count as relayctl prints it: `812`, `4.1K`, `12.4K`, `812K`, `3.2M` (powers of 1024, at most five
/// characters, so it fits the queue table's SIZE column).
public enum SizeText {
    private static let units = ["K", "M", "G", "T", "P"]

    public static func format(_ bytes: Int) -> String {
        guard bytes >= 1024 else { return "\(max(0, bytes))" }
        var value = Double(bytes) / 1024
        var unit = 0
        // 999.5K and up would print as 1000K: the next unit says the same in fewer characters.
        while value >= 999.5, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return number(value) + units[unit]
    }

    /// One decimal below 100 (`4.1`, `12.4`), whole numbers from there (`812`).
    private static func number(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        if tenths < 1000 { return "\(tenths / 10).\(tenths % 10)" }
        return "\(Int(value.rounded()))"
    }
}
