#if canImport(Glibc)
import Glibc
#endif
import Logging
import RelayConfiguration
import Threading

/// A swift-log handler that writes one line per event to stderr, as logfmt or JSON.
///
/// Keys are stable (`ts`, `level`, `msg`, then metadata sorted by key) so lines can be grepped and parsed.
/// Callers never put message bodies or secrets in metadata; this handler does not try to guess them.
struct StructuredLogHandler: LogHandler {
    enum Format: Sendable { case logfmt, json }

    var metadata: Logger.Metadata = [:]
    let format: Format
    let label: String
    /// Shared by all handlers: setting one logger's level sets relayd's.
    let threshold: LogThreshold
    private static let lock = Locked(())

    var logLevel: Logger.Level {
        get { threshold.level }
        nonmutating set { threshold.level = newValue }
    }

    init(label: String, format: Format, threshold: LogThreshold) {
        self.label = label
        self.format = format
        self.threshold = threshold
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        let line = render(level: event.level, message: "\(event.message)", fields: fields)
        // One write(2) per line keeps lines whole even with several threads logging.
        var bytes = Array(line.utf8)
        StructuredLogHandler.lock.withLock { _ in
            _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        }
    }

    func render(level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        let pairs = [("ts", Self.timestamp()), ("level", level.rawValue), ("msg", message)]
            + fields.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        switch format {
        case .logfmt:
            return pairs.map { "\($0.0)=\(Self.logfmtValue($0.1))" }.joined(separator: " ") + "\n"
        case .json:
            return "{" + pairs.map { jsonStringLiteral($0.0) + ":" + jsonStringLiteral($0.1) }.joined(separator: ",") + "}\n"
        }
    }

    static func logfmtValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r") + "\""
    }


    /// RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))."
            + "\(pad(Int(now.tv_nsec / 1_000_000), 3))Z"
    }
}
