import RelayTesting
import Spool
import Testing

@Suite("Spool: delivery state, remove, missing ids")
struct SpoolStateTests {
    static func sampleState() -> DeliveryState {
        var state = DeliveryState(recipients: ["a@example.net", "b@example.net", "c@example.net"], nextAttemptAt: 1_700_000_123.5)
        state.attempts = 3
        state.held = true
        state.lastError = "connect: connection refused"
        state.recipients[0].status = .delivered
        state.recipients[0].reply = "250 2.0.0 Ok"
        state.recipients[0].at = 1_700_000_000.25
        state.recipients[1].status = .deferred
        state.recipients[1].reply = "421 4.7.0 Try again later"
        state.recipients[2].status = .failed
        state.recipients[2].reply = "550 5.1.1 No such user"
        state.record(.init(at: 1_700_000_000.25, relay: "smtp.example.net[192.0.2.1]:587", recipients: state.recipients))
        return state
    }

    @Test func historyKeepsTheLatestAttemptsOldestFirst() {
        var state = DeliveryState(recipients: ["a@example.net"])
        #expect(state.history == nil, "absent until the first attempt, as in older state files")
        for n in 1...(DeliveryState.historyLimit + 5) {
            state.record(.init(at: Double(n), relay: "r\(n)", recipients: state.recipients))
        }
        #expect(state.history?.count == DeliveryState.historyLimit)
        #expect(state.history?.first?.at == 6)
        #expect(state.history?.last?.relay == "r\(DeliveryState.historyLimit + 5)")
    }

    @Test func writeStateLoadStateRoundTrip() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let id = try await spool.commitMessage(recipients: ["a@example.net", "b@example.net", "c@example.net"])
            #expect(try await spool.loadState(id) == nil, "no state before the first attempt")

            let state = Self.sampleState()
            try await spool.writeState(state, for: id)
            #expect(try await spool.loadState(id) == state)
            #expect(temp.names(in: .queue) == ["\(id).msg", "\(id).state"])
            #expect(temp.names(in: .incoming) == [], "the temporary file was renamed away")

            var next = state
            next.attempts = 4
            next.held = false
            try await spool.writeState(next, for: id)
            #expect(try await spool.loadState(id) == next, "a rewrite replaces the state")
            var scanned = next
            scanned.history = nil
            #expect(next.history != nil)
            #expect(try await spool.scan().messages.first?.state == scanned, "scan reports the recorded state, less its history")
        }
    }

    @Test func removeDeletesMessageAndState() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let keep = try await spool.commitMessage()
            let id = try await spool.commitMessage()
            try await spool.writeState(DeliveryState(recipients: ["bob@example.net"]), for: id)
            try await spool.remove(id)
            #expect(temp.names(in: .queue) == ["\(keep).msg"])
            #expect(try await spool.loadState(id) == nil)
            await #expect(throws: SpoolError.notFound(id)) { try await spool.read(id) }
            try await spool.remove(id)  // removing twice is not an error
            #expect(try await spool.scan().messages.map(\.id) == [keep])
        }
    }

    @Test func readOfAMissingIDThrowsNotFound() async throws {
        try await withTemporarySpool { temp in
            let id = try #require(QueueID("0123456789ABC"))
            await #expect(throws: SpoolError.notFound(id)) { try await temp.spool.read(id) }
        }
    }

    /// An unreadable state must not make the message undeliverable: it is moved to corrupt/ for a look and
    /// the message is treated as never attempted.
    @Test func corruptStateFileIsQuarantinedAndReadsAsNoState() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            // Recorded by the spool, then damaged on disk behind its back.
            try await temp.spool.writeState(DeliveryState(recipients: ["bob@example.net"]), for: id)
            let bytes = Array("{not json".utf8)
            try bytes.write(to: temp.spool.layout.statePath(id))
            #expect(try await temp.spool.loadState(id) == nil)
            #expect(temp.names(in: .queue) == ["\(id).msg"])
            #expect(temp.names(in: .corrupt) == ["\(id).state"])
            #expect(try contents(of: temp.spool.layout.corrupt + "/\(id).state") == bytes)
            #expect(try await temp.spool.loadState(id) == nil, "still nothing, and nothing to move")

            let scanned = try await temp.spool.scan()
            #expect(scanned.messages.map(\.id) == [id])
            #expect(scanned.messages.first?.state == DeliveryState(recipients: ["bob@example.net"]))
            #expect(scanned.quarantined == [])

            // The next attempt's state is recorded normally.
            var state = DeliveryState(recipients: ["bob@example.net"])
            state.attempts = 1
            try await temp.spool.writeState(state, for: id)
            #expect(try await temp.spool.loadState(id) == state)
        }
    }
}

/// The spool remembers which messages have a state file, so first-attempt deliveries touch no state file.
@Suite("Spool: state bookkeeping")
struct SpoolStateBookkeepingTests {
    @Test func stateWrittenByThisSpoolIsFoundAndRemovedWithTheMessage() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            #expect(try await temp.spool.loadState(id) == nil)
            var state = DeliveryState(recipients: ["bob@example.net"])
            state.attempts = 2
            try await temp.spool.writeState(state, for: id)
            #expect(try await temp.spool.loadState(id) == state)
            try await temp.spool.remove(id)
            #expect(temp.names(in: .queue) == [])
        }
    }

    @Test func stateFoundAtRecoveryIsKnownToTheNextSpool() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            var state = DeliveryState(recipients: ["bob@example.net"])
            state.held = true
            try await temp.spool.writeState(state, for: id)
            let restarted = try temp.reopen()
            let report = try await restarted.recover()
            #expect(report.messages.first?.hasStateFile == true)
            #expect(try await restarted.loadState(id) == state)
            try await restarted.remove(id)
            #expect(temp.names(in: .queue) == [])
        }
    }
}
