import Control
import FastJSON
import Foundation
import Logging
import RelayTesting
import Spool
import Testing

/// What `relayctl queue` costs on a big spool, both ways: read from the spool (relayd down) and streamed
/// over the control socket from relayd's side. Off by default; run it with
/// `BENCH_SPOOL_MESSAGES=100000 swift test -c release --filter QueueListingBenchmark`.
@Suite("Queue listing benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH_SPOOL_MESSAGES"] != nil))
struct QueueListingBenchmark {
    @Test func listsABigQueueOfflineAndOverTheSocket() async throws {
        let count = Int(ProcessInfo.processInfo.environment["BENCH_SPOOL_MESSAGES"] ?? "") ?? 100_000
        let directory = try TemporaryDirectory(prefix: "mailrelay-bench")
        let root = directory.appending("spool")
        try SpoolFixtures.writeCommittedMessages(root: root, count: count)
        let inspector = SpoolInspector(root: root, io: BlockingIOPool(threads: 1))

        for round in 1...2 {
            // relayd down: what `relayctl queue --json` does, every entry written as a JSON line.
            var started = ContinuousClock.now
            var writer = JSONWriter(capacity: 1 << 20)
            var bytes = 0
            let summary = try await inspector.queue(.all) { entry in
                entry.write(to: &writer)
                writer.endLine()
                if writer.bytes.count > 1 << 20 { bytes += writer.bytes.count; writer.reset() }
            }
            bytes += writer.bytes.count
            print("round \(round) offline: \(summary.messages) entries, \(bytes) bytes of JSON in \(ContinuousClock.now - started)")
            #expect(summary.messages == count)

            // relayd up: the same listing streamed over the socket and decoded by the client.
            let path = directory.appending("control-\(round).sock")
            let server = try ControlServer(path: path, handler: inspector, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
            let running = Task { try await server.run() }
            started = ContinuousClock.now
            let listed = try await onDedicatedThread {
                let client = try ControlClient(path: path)
                var listed = 0
                _ = try client.queue(.all) { _ in listed += 1 }
                return listed
            }
            print("round \(round) over the socket: \(listed) entries decoded in \(ContinuousClock.now - started)")
            #expect(listed == count)
            running.cancel()
            _ = await running.result
        }
    }

    @Test func encodesAndDecodesEntries() throws {
        let count = Int(ProcessInfo.processInfo.environment["BENCH_SPOOL_MESSAGES"] ?? "") ?? 100_000
        let entries = ControlServerTests.entries(count)
        var started = ContinuousClock.now
        var writer = JSONWriter(capacity: count * 512)
        for entry in entries {
            ControlReply.message(entry).write(to: &writer)
            writer.endLine()
        }
        print("encoded \(count) reply lines (\(writer.bytes.count) bytes) in \(ContinuousClock.now - started)")
        started = ContinuousClock.now
        var decoded = 0
        for line in writer.bytes.split(separator: 10) {
            if case .message = try ControlReply(json: try JSONParser.parse(line)) { decoded += 1 }
        }
        print("decoded \(decoded) reply lines in \(ContinuousClock.now - started)")
        #expect(decoded == count)
    }
}
