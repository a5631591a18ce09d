import CoreMetrics

/// Configuration reloads through swift-metrics: how many, and whether the last one took.
struct ReloadMetrics: Sendable {
    private let applied: Counter
    private let unchanged: Counter
    private let refused: Counter
    /// 1 when the last reload was applied or found nothing to change, 0 while the files on disk hold a
    /// configuration relayd refused (the same idea as Prometheus' own `…_config_last_reload_successful`).
    private let lastSuccessful: Gauge

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        func reloads(_ result: String) -> Counter {
            Counter(label: "mailrelay_config_reloads_total", dimensions: [("result", result)], factory: factory)
        }
        applied = reloads("applied")
        unchanged = reloads("unchanged")
        refused = reloads("refused")
        lastSuccessful = Gauge(label: "mailrelay_config_last_reload_successful", factory: factory)
        lastSuccessful.record(1)
    }

    func record(_ outcome: ReloadOutcome) {
        switch outcome {
        case .applied: applied.increment()
        case .unchanged: unchanged.increment()
        case .refused: refused.increment()
        }
        lastSuccessful.record(outcome.isRefused ? 0 : 1)
    }
}
