/// A span of time as relayctl prints ages and waits: `45s`, `3m`, `2h13m`, `4d2h` (the two largest units,
/// the second left out when it is zero; rounded down).
public enum AgeText {
    public static func format(seconds: Int) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(s)s" }
        if s < 3_600 { return "\(s / 60)m" }
        if s < 86_400 { return two(s / 3_600, "h", s % 3_600 / 60, "m") }
        return two(s / 86_400, "d", s % 86_400 / 3_600, "h")
    }

    private static func two(_ major: Int, _ majorUnit: String, _ minor: Int, _ minorUnit: String) -> String {
        minor == 0 ? "\(major)\(majorUnit)" : "\(major)\(majorUnit)\(minor)\(minorUnit)"
    }
}
