import Control
import RelayctlCore
import Spool
import Testing

@Suite("ChangeReportLines")
struct ChangeReportLinesTests {
    let a = QueueID("0F3A9C2E1B7D4")!
    let b = QueueID("0F3A9D11A2C01")!
    let c = QueueID("0F3A9D11A2C02")!
    let d = QueueID("0F3A9D11A2C03")!

    @Test func oneLinePerMessageWithItsOutcome() {
        let report = ChangeReport(items: [
            .init(id: a, result: .done), .init(id: b, result: .notFound), .init(id: c, result: .alreadyDelivered),
            .init(id: d, result: .unchanged, detail: "not held"),
        ])
        #expect(ChangeReportLines.lines(report, done: "released") == [
            "0F3A9C2E1B7D4: released", "0F3A9D11A2C01: not found", "0F3A9D11A2C02: already delivered",
            "0F3A9D11A2C03: unchanged: not held",
        ])
        #expect(ChangeReportLines.anyNotFound(report))
        #expect(!ChangeReportLines.anyNotFound(ChangeReport(items: [.init(id: a, result: .unchanged)])))
        #expect(ChangeReportLines.lines(ChangeReport(items: [.init(id: a, result: .unchanged)]), done: "held") == ["0F3A9C2E1B7D4: unchanged"])
    }
}
