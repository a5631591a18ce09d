import Control
import RelayctlCore
import Spool
import Testing

@Suite("Command-line values")
struct ArgumentTests {
    @Test func statesAreCommaSeparatedAndRepeatable() throws {
        #expect(try StateListArgument.parse("deferred") == [.deferred])
        #expect(try StateListArgument.parse("held,FAILED, queued") == [.held, .failed, .queued])
        #expect(throws: ArgumentError.self) { try StateListArgument.parse("sideways") }
        #expect(throws: ArgumentError.self) { try StateListArgument.parse("held,") }
        let arguments = QueueFilterArguments(states: [[.deferred], [.held, .deferred]])
        #expect(arguments.filter == QueueFilter(states: [.deferred, .held]))
        #expect(arguments.restricts)
    }

    @Test func theFilterTakesEveryOption() throws {
        let arguments = QueueFilterArguments(from: "MAST.TOWN", to: "dave@", olderThan: try DurationArgument.parse("2h"))
        #expect(arguments.filter == QueueFilter(from: "MAST.TOWN", to: "dave@", olderThanSeconds: 7_200))
        #expect(!QueueFilterArguments().restricts)
        #expect(!QueueFilterArguments(from: "", to: "").restricts, "empty texts filter nothing out")
    }

    @Test func durationsUseTheConfigurationSyntax() throws {
        #expect(try DurationArgument.parse("90s") == .seconds(90))
        #expect(try DurationArgument.parse("30m") == .seconds(1_800))
        #expect(try DurationArgument.parse("5d") == .seconds(432_000))
        #expect(try DurationArgument.parse("1h30m") == .seconds(5_400))
        #expect(throws: ArgumentError.self) { try DurationArgument.parse("90") }
        #expect(throws: ArgumentError.self) { try DurationArgument.parse("soon") }
        #expect(DurationArgument.seconds(.milliseconds(1_500)) == 1)
    }

    @Test func queueIDs() throws {
        #expect(try QueueIDArgument.parse("0F3A9C2E1B7D4") == QueueID("0F3A9C2E1B7D4"))
        #expect(try QueueIDArgument.parse("0f3a9c2e1b7d4") == QueueID("0F3A9C2E1B7D4"))
        #expect(throws: ArgumentError.self) { try QueueIDArgument.parse("../etc/passwd") }
        #expect(throws: ArgumentError.self) { try QueueIDArgument.parse("0F3A9C2E1B7D") }
    }
}
