#if canImport(Glibc)
import Glibc
#endif

/// Dates for generated mail, written by hand from `gmtime_r` (no locale, no DateFormatter), always in UTC.
enum RFC5322Date {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 5322 §3.3, e.g. `Tue, 01 Jul 2025 09:05:00 +0000`.
    static func format(_ seconds: Double) -> String {
        let t = utc(seconds)
        return "\(days[Int(t.tm_wday)]), \(pad(t.tm_mday, 2)) \(months[Int(t.tm_mon)]) \(t.tm_year + 1900) "
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)) +0000"
    }

    /// Digits only, to the millisecond, e.g. `20250701090500123`: for unique identifiers.
    static func compact(_ seconds: Double) -> String {
        let t = utc(seconds)
        let milliseconds = seconds.isFinite ? Int32((seconds - seconds.rounded(.down)) * 1000) : 0
        return "\(t.tm_year + 1900)\(pad(t.tm_mon + 1, 2))\(pad(t.tm_mday, 2))"
            + "\(pad(t.tm_hour, 2))\(pad(t.tm_min, 2))\(pad(t.tm_sec, 2))\(pad(milliseconds, 3))"
    }

    private static func utc(_ seconds: Double) -> tm {
        // Clamped to years 1970...9999 so a nonsense timestamp cannot trap the conversion or widen the field.
        var time = time_t(seconds.isFinite ? min(max(seconds, 0), 253_402_300_799).rounded(.down) : 0)
        var parts = tm()
        gmtime_r(&time, &parts)
        return parts
    }

    private static func pad(_ value: Int32, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
