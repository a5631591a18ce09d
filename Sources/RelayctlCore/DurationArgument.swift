import RelayConfiguration

/// `--older-than 2h`, `--timeout 90s`: a duration in the configuration file's syntax (`90s`, `30m`, `2h`,
/// `5d`, `1h30m`), in whole seconds.
public enum DurationArgument {
    public static func parse(_ text: String) throws(ArgumentError) -> Duration {
        guard let duration = Duration(configText: text) else {
            throw ArgumentError("a duration is a number with a unit: 90s, 30m, 2h, 5d (or a sum like 1h30m)")
        }
        return duration
    }

    /// The duration's whole seconds.
    public static func seconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds)
    }
}
