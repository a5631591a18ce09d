@testable import Delivery
import RelayTesting
import Spool
import Testing

@Suite("QueueIndex")
struct QueueIndexTests {
    static let a = QueueID("0000000000AAA")!
    static let b = QueueID("0000000000BBB")!
    static let c = QueueID("0000000000CCC")!

    @Test func offeringTwiceDeliversOnce() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 0, now: 100)
        await index.offer(Self.a, dueAt: 0, now: 100)  // a hint and a scan both report it
        await index.offer(Self.b, dueAt: 0, now: 100)
        #expect(await index.next() == Self.a)
        #expect(await index.next() == Self.b)
        #expect(await index.counts == (ready: 0, waiting: 0, known: 2))
        await index.offer(Self.a, dueAt: 0, now: 100)  // still in flight: ignored
        #expect(await index.counts.ready == 0)
    }

    @Test func futureMessageWaitsUntilDue() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 200, now: 100)
        #expect(await index.counts == (ready: 0, waiting: 1, known: 1))
        await index.releaseDue(now: 199.9)
        #expect(await index.counts.ready == 0)
        await index.releaseDue(now: 200)
        #expect(await index.counts == (ready: 1, waiting: 0, known: 1))
        #expect(await index.next() == Self.a)
    }

    @Test func deferredThenReleaseDue() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 0, now: 100)
        #expect(await index.next() == Self.a)
        await index.deferred(Self.a, until: 160)
        #expect(await index.counts == (ready: 0, waiting: 1, known: 1))
        await index.releaseDue(now: 159)
        #expect(await index.counts.ready == 0)
        await index.releaseDue(now: 161)
        #expect(await index.next() == Self.a)
    }

    @Test func flushMakesWaitingMessagesReady() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 1_000, now: 100)
        await index.offer(Self.b, dueAt: 2_000, now: 100)
        await index.offer(Self.c, dueAt: 3_000, now: 100)
        _ = await index.flush([Self.b])
        #expect(await index.counts == (ready: 1, waiting: 2, known: 3))
        #expect(await index.next() == Self.b)
        _ = await index.flush()
        #expect(await index.counts == (ready: 2, waiting: 0, known: 3))
        let rest: Set = [await index.next(), await index.next()]
        #expect(rest == [Self.a, Self.c])
    }

    @Test func finishedMessagesCanBeOfferedAgain() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 0, now: 100)
        #expect(await index.next() == Self.a)
        await index.finished(Self.a)
        await index.deferred(Self.a, until: 200)  // a late deferral of a finished message is ignored
        #expect(await index.counts == (ready: 0, waiting: 0, known: 0))
        await index.offer(Self.a, dueAt: 0, now: 100)
        #expect(await index.next() == Self.a)
    }

    @Test func waitingWorkerGetsTheNextOffer() async {
        let index = QueueIndex()
        let worker = Task { await index.next() }
        try? await Task.sleep(for: .milliseconds(50))
        await index.offer(Self.c, dueAt: 0, now: 100)
        #expect(await worker.value == Self.c)
        #expect(await index.counts.ready == 0, "handed straight to the worker, not queued")
    }

    @Test func closeWakesWaitingWorkersWithNil() async {
        let index = QueueIndex()
        let workers = (0..<3).map { _ in Task { await index.next() } }
        try? await Task.sleep(for: .milliseconds(100))  // let them suspend
        await index.close()
        for worker in workers { #expect(await worker.value == nil) }
        await index.offer(Self.a, dueAt: 0, now: 100)
        #expect(await index.counts.known == 0, "a closed index takes nothing new")
        #expect(await index.next() == nil)
    }

    @Test func manyMessagesComeOutInOfferOrder() async {
        let index = QueueIndex()
        let ids = (0..<3000).map { QueueID(String(repeating: "0", count: 9) + String(1000 + $0))! }
        for id in ids { await index.offer(id, dueAt: 0, now: 1) }
        var out: [QueueID] = []
        for _ in ids { if let id = await index.next() { out.append(id) } }
        #expect(out == ids, "the ready list compacts itself without losing or reordering")
    }

    // MARK: operator changes take a message exclusively

    @Test func takingAWaitingMessageKeepsItFromRetriesAndFlushes() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 200, now: 100)
        #expect(await index.take(Self.a) == .init(position: .waiting(until: 200), attemptEnded: false))
        await index.releaseDue(now: 300)
        #expect(await index.flush().isEmpty)
        await index.offer(Self.a, dueAt: 0, now: 100)  // a scan that read it before the change
        #expect(await index.counts == (ready: 0, waiting: 0, known: 1))
        await index.giveBack(Self.a, at: .waiting(until: 200))
        #expect(await index.counts == (ready: 0, waiting: 1, known: 1))
        await index.giveBack(Self.a, at: .ready)  // not taken any more: ignored
        #expect(await index.counts == (ready: 0, waiting: 1, known: 1))
    }

    @Test func takingAReadyMessageSkipsItUntilGivenBack() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 0, now: 100)
        await index.offer(Self.b, dueAt: 0, now: 100)
        #expect(await index.take(Self.a) == .init(position: .ready, attemptEnded: false))
        #expect(await index.next() == Self.b, "the taken message is not handed out")
        #expect(await index.counts.ready == 0)
        await index.giveBack(Self.a, at: .ready)
        #expect(await index.next() == Self.a)
        await index.finished(Self.a)
        await index.offer(Self.a, dueAt: 0, now: 100)
        #expect(await index.next() == Self.a, "handed out once per offer, whatever stale entries the ready list holds")
        #expect(await index.counts.ready == 0)
    }

    @Test func aDeletedMessageIsForgotten() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 0, now: 100)
        _ = await index.take(Self.a)
        await index.giveBack(Self.a, at: .absent)
        #expect(await index.counts == (ready: 0, waiting: 0, known: 0))
        let worker = Task { await index.next() }
        try? await Task.sleep(for: .milliseconds(50))
        await index.offer(Self.b, dueAt: 0, now: 100)
        #expect(await worker.value == Self.b)
    }

    @Test func takingAMessageInFlightWaitsForTheAttemptToEnd() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 0, now: 100)
        #expect(await index.next() == Self.a)
        #expect(await index.active == [Self.a])
        let change = Task { await index.take(Self.a) }
        #expect(await eventually { await index.pendingTakeCount(for: Self.a) == 1 })
        // A worker asking now must not get the message between the attempt's end and the change.
        let worker = Task { await index.next() }
        try? await Task.sleep(for: .milliseconds(50))
        await index.deferred(Self.a, until: 500)
        #expect(await change.value == .init(position: .waiting(until: 500), attemptEnded: true))
        #expect(await index.active == [])
        await index.releaseDue(now: 1_000)
        #expect(await index.counts.ready == 0, "taken, so not released by its retry time")
        await index.giveBack(Self.a, at: .ready)
        #expect(await worker.value == Self.a, "ready again once the change is done")
    }

    @Test func aChangeWaitingForAFinishingAttemptFindsItGone() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 0, now: 100)
        _ = await index.next()
        let first = Task { await index.take(Self.a) }
        #expect(await eventually { await index.pendingTakeCount(for: Self.a) == 1 })
        let second = Task { await index.take(Self.a) }
        #expect(await eventually { await index.pendingTakeCount(for: Self.a) == 2 })
        await index.finished(Self.a)
        #expect(await first.value == .init(position: .absent, attemptEnded: true))
        await index.giveBack(Self.a, at: .absent)
        #expect(await second.value == .init(position: .absent, attemptEnded: true), "both waited for that attempt")
        await index.giveBack(Self.a, at: .absent)
        #expect(await index.counts == (ready: 0, waiting: 0, known: 0))
    }

    @Test func anAttemptThatSkippedTheMessageIsNotAnEndedAttempt() async {
        let index = QueueIndex()
        await index.offer(Self.a, dueAt: 0, now: 100)
        _ = await index.next()
        let change = Task { await index.take(Self.a) }
        #expect(await eventually { await index.pendingTakeCount(for: Self.a) == 1 })
        await index.skipped(Self.a)  // held, or deleted before the attempt read it
        #expect(await change.value == .init(position: .absent, attemptEnded: false))
    }

    @Test func changesToOneMessageTakeTurns() async {
        let index = QueueIndex()
        #expect(await index.take(Self.c) == .init(position: .absent, attemptEnded: false), "an unknown id can be taken")
        let second = Task { await index.take(Self.c) }
        #expect(await eventually { await index.pendingTakeCount(for: Self.c) == 1 })
        await index.giveBack(Self.c, at: .ready)
        #expect(await second.value == .init(position: .ready, attemptEnded: false))
        #expect(await index.counts.ready == 0, "the second change has it")
        await index.giveBack(Self.c, at: .ready)
        #expect(await index.next() == Self.c)
    }
}
