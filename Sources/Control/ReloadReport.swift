import FastJSON

/// The answer to `reload`: whether relayd took its configuration files again, and which keys changed.
public struct ReloadReport: Sendable, Equatable {
    /// How the reload ended.
    public enum Result: String, Sendable, CaseIterable {
        /// New values are in force.
        case applied
        /// The files hold what is already in force.
        case unchanged
        /// The configuration could not be used; the running one stays (`error` says why).
        case refused
    }

    public var result: Result
    /// Keys whose new values took effect (names only, never values).
    public var applied: [String]
    /// Keys whose new values wait for a restart; the running values stay until then.
    public var needsRestart: [String]
    /// For `refused`: file, key and problem, as relayd logged them.
    public var error: String?

    public init(result: Result, applied: [String] = [], needsRestart: [String] = [], error: String? = nil) {
        self.result = result
        self.applied = applied
        self.needsRestart = needsRestart
        self.error = error
    }
}

extension ReloadReport: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("result"); w.string(result.rawValue)
            w.key("applied"); w.array(applied) { w, key in w.string(key) }
            w.key("needs_restart"); w.array(needsRestart) { w, key in w.string(key) }
            if let error { w.key("error"); w.string(error) }
        }
    }

    public init(json v: JSONValue) throws(JSONError) {
        self.init(
            result: try JSONValue.oneOf(try v.string("result"), "result", Result.self),
            applied: try v.strings("applied"),
            needsRestart: try v.strings("needs_restart"),
            error: try v.optionalString("error"))
    }
}
