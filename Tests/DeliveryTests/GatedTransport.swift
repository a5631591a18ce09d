import Delivery
import Threading

/// Holds deliveries in flight until the test opens it; once open it stays open.
final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Locked(State())

    func open() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isOpen = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func pass() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let through = state.withLock { state -> Bool in
                if state.isOpen { return true }
                state.waiting.append(continuation)
                return false
            }
            if through { continuation.resume() }
        }
    }
}

/// A `ScriptedTransport` whose every delivery stays in flight until the gate opens: for what happens to a
/// message while it is being delivered. The call is recorded (and its outcome chosen) on entry, so the
/// scripted transport's call count says when a delivery is in flight.
final class GatedTransport: DeliveryTransport {
    let name = "gated"
    let scripted: ScriptedTransport
    let gate: Gate

    init(_ scripted: ScriptedTransport, gate: Gate) {
        self.scripted = scripted
        self.gate = gate
    }

    func deliver(_ message: OutboundMessage) async -> DeliveryReport {
        let report = await scripted.deliver(message)
        await gate.pass()
        return report
    }
}
