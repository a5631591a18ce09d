import FastJSON
import Spool

/// A request relayd could not carry out, as the `error` reply line carries it: a stable code for programs
/// and one sentence for the operator.
public struct ControlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure; a code this side does not know reads as `internal`.
    public enum Code: String, Sendable, CaseIterable {
        /// No such message (relayctl exits 1).
        case notFound = "not_found"
        /// The request line was malformed, too long, of an unknown command or protocol version.
        case badRequest = "bad_request"
        /// The request needs something that is not there now (e.g. relayd, for a state change).
        case unavailable
        /// relayd failed (a disk error, say); the message says what.
        case `internal`
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// `id` is in neither the queue nor `failed/`.
    public static func notFound(_ id: QueueID) -> ControlError {
        ControlError(.notFound, "\(id): no such message in the queue")
    }

    /// The control error for a spool failure: a missing message is `not_found`, anything else `internal`.
    public init(_ error: SpoolError) {
        if case .notFound(let id) = error {
            self = .notFound(id)
        } else {
            self.init(.internal, "\(error)")
        }
    }
}

extension ControlError: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("code"); w.string(code.rawValue)
            w.key("message"); w.string(message)
        }
    }

    public init(json v: JSONValue) throws(JSONError) {
        self.init(Code(rawValue: try v.string("code")) ?? .internal, try v.string("message"))
    }
}
