#if canImport(Glibc)
import Glibc
#endif
import Admin
import Receiving
import Spool

/// What `/readyz` checks: relayd takes mail (the SMTP listener accepts), can keep it (the spool's directories
/// are writable), and is not shutting down. Cheap enough to run on every probe: two `access` calls.
struct RelayReadiness: Sendable {
    let server: SMTPServer
    let spool: SpoolLayout
    let drain: DrainNotice

    func check() -> Readiness {
        if drain.isDraining { return .notReady("shutting down") }
        if !server.isAccepting { return .notReady("SMTP listener not accepting") }
        for directory in [spool.queue, spool.incoming] where access(directory, W_OK) != 0 {
            return .notReady("spool directory \(directory) not writable: \(String(cString: strerror(errno)))")
        }
        return .ready
    }
}
