import Foundation
import RelayTesting
import Spool
import Testing

/// How long `SpoolReader.entries()` takes on a big spool. Off by default; run it with
/// `BENCH_SPOOL_MESSAGES=100000 swift test --filter SpoolReaderBenchmark` (a release build for real figures:
/// `swift test -c release …`). `BENCH_SPOOL_STATES=1` gives every message a `.state`, as after an outage;
/// `BENCH_SPOOL_ROOT=/some/dir` keeps the spool there to list it again on later runs.
@Suite("SpoolReader benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH_SPOOL_MESSAGES"] != nil))
struct SpoolReaderBenchmark {
    @Test func listsABigSpool() throws {
        let environment = ProcessInfo.processInfo.environment
        let count = Int(environment["BENCH_SPOOL_MESSAGES"] ?? "") ?? 100_000
        let withStates = environment["BENCH_SPOOL_STATES"] == "1"
        let directory = try TemporaryDirectory(prefix: "mailrelay-bench")
        // BENCH_SPOOL_ROOT: write the spool there once and list it again on later runs (for profiling).
        let root = environment["BENCH_SPOOL_ROOT"] ?? directory.appending("spool")
        var state = DeliveryState(recipients: ["bob@example.net"], nextAttemptAt: 1_800_000_000)
        state.attempts = 2
        state.recipients[0] = .init(address: "bob@example.net", status: .deferred, reply: "421 4.7.0 Try again later", at: 1_799_999_000)
        if !FileManager.default.fileExists(atPath: root + "/queue") {
            let written = ContinuousClock.now
            try SpoolFixtures.writeCommittedMessages(root: root, count: count) { _, _ in withStates ? state : nil }
            print("wrote \(count) messages in \(ContinuousClock.now - written)")
        }

        let reader = SpoolReader(root: root)
        for round in 1...3 {
            let started = ContinuousClock.now
            let (entries, unreadable) = try reader.entries()
            let took = ContinuousClock.now - started
            print("round \(round): listed \(entries.count) messages (\(unreadable.count) unreadable) in \(took)")
            #expect(entries.count == count)
        }
    }
}
