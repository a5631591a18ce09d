/// Whether relayd should be sent traffic now, as `/readyz` reports it.
public enum Readiness: Sendable, Equatable {
    case ready
    /// Not ready; the reason is one line for the operator (and the load balancer's log).
    case notReady(String)
}
