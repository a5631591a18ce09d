/// Where relayctl finds relayd's control socket: `--socket`, else `$RELAY_CONTROL_SOCKET`, else
/// `listen.control` of the configuration, which is read only when it is needed.
public enum ControlSocketLocation {
    public static func resolve<E: Error>(
        flag: String?, environment: [String: String], configured: () throws(E) -> String
    ) throws(E) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let variable = environment["RELAY_CONTROL_SOCKET"], !variable.isEmpty { return variable }
        return try configured()
    }
}
