import Testing
@testable import RelayConfiguration

@Suite struct DurationParsingTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("90s", .seconds(90)),
        ("5m", .seconds(300)),
        ("1h", .seconds(3600)),
        ("5d", .seconds(432_000)),
        ("1h30m", .seconds(5400)),
        ("1m30s500ms", .milliseconds(90_500)),
        ("0s", .zero),
        (" 10m ", .seconds(600)),
    ])
    func parsesValidDurations(text: String, expected: Duration) {
        #expect(Duration(configText: text) == expected)
    }

    @Test(arguments: ["", "90", "5 m", "5min", "1.5h", "-5s", "h", "5w", "1h 30m", "5s5", "99999999999999999999d"])
    func rejectsInvalidDurations(text: String) {
        #expect(Duration(configText: text) == nil)
    }

    @Test(arguments: [
        (Duration.seconds(90), "1m30s"), (.seconds(300), "5m"), (.seconds(432_000), "5d"),
        (.milliseconds(250), "250ms"), (.seconds(3600), "1h"), (.zero, "0s"),
    ])
    func formatsSoThatItParsesBack(duration: Duration, text: String) {
        #expect(duration.configText == text)
        #expect(Duration(configText: text) == duration)
    }
}
