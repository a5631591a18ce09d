import ArgumentParser
import Control
import RelayctlCore

/// `relayctl stats`: counts per state, bytes, the oldest message; from relayd also the last hour's outcomes
/// and the upstreams' health (qshape, mailq | tail -1).
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Messages per state, bytes and the oldest message; the last hour's outcomes and upstream health.",
        discussion: "With relayd down only the queue's part is known (read from the spool).")

    @OptionGroup var daemon: DaemonOptions

    @Flag(name: .long, help: "Print the statistics as one JSON object (the QueueStatistics schema).")
    var json = false

    func run() async throws {
        let statistics = try await daemon.queueSource().statistics()
        if json { return StandardStreams.printJSONLine(statistics) }
        for line in StatisticsReport.lines(statistics, now: SpoolInspector.wallClock()) { print(line) }
    }
}
