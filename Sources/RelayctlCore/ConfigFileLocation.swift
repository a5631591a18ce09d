/// Which configuration file relayctl reads: `--config`, else `$RELAY_CONFIG`, else none (the built-in
/// defaults and `RELAY_*` variables), as relayd itself decides.
public enum ConfigFileLocation {
    public static func resolve(flag: String?, environment: [String: String]) -> String? {
        if let flag { return flag }
        guard let variable = environment["RELAY_CONFIG"], !variable.isEmpty else { return nil }
        return variable
    }
}
