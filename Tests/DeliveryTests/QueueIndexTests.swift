@testable import Delivery
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
        await index.flush([Self.b])
        #expect(await index.counts == (ready: 1, waiting: 2, known: 3))
        #expect(await index.next() == Self.b)
        await index.flush()
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
}
