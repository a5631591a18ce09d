import Control
import FastJSON
import Spool
import Testing

@Suite("ControlRequest")
struct ControlRequestTests {
    static let a = QueueID("01HX0000000AB")!
    static let b = QueueID("01HX0000000AC")!

    @Test(arguments: [
        (ControlRequest.queue(.all), #"{"v":1,"command":"queue","filter":{"states":[],"from":null,"to":null,"older_than_seconds":null}}"#),
        (.show(a), #"{"v":1,"command":"show","id":"01HX0000000AB"}"#),
        (.showRaw(a), #"{"v":1,"command":"show_raw","id":"01HX0000000AB"}"#),
        (.flush(nil), #"{"v":1,"command":"flush"}"#),
        (.flush([a, b]), #"{"v":1,"command":"flush","ids":["01HX0000000AB","01HX0000000AC"]}"#),
        (.hold([a]), #"{"v":1,"command":"hold","ids":["01HX0000000AB"]}"#),
        (.release([a]), #"{"v":1,"command":"release","ids":["01HX0000000AB"]}"#),
        (.delete([a]), #"{"v":1,"command":"delete","ids":["01HX0000000AB"]}"#),
        (.deleteState(.failed), #"{"v":1,"command":"delete","state":"failed"}"#),
        (.stats, #"{"v":1,"command":"stats"}"#),
        (.reload, #"{"v":1,"command":"reload"}"#),
        (.awaitOutcome(a, timeoutSeconds: 30), #"{"v":1,"command":"await_outcome","id":"01HX0000000AB","timeout_seconds":30}"#),
    ])
    func wireForm(request: ControlRequest, json: String) throws {
        #expect(String(decoding: request.jsonBytes, as: UTF8.self) == json)
        #expect(try ControlRequest(jsonBytes: Array(json.utf8)) == request)
    }

    @Test func aQueueRequestWithoutFilterListsEverything() throws {
        #expect(try ControlRequest(jsonBytes: Array(#"{"v":1,"command":"queue"}"#.utf8)) == .queue(.all))
        #expect(try ControlRequest(jsonBytes: Array(#"{"command":"queue","v":1,"filter":{"states":["held"]},"extra":true}"#.utf8))
            == .queue(QueueFilter(states: [.held])), "member order is free and unknown members are ignored")
    }

    @Test(arguments: [
        (#"[1]"#, "a request must be an object, not an array"),
        (#"{"command":"stats"}"#, "the protocol version \"v\" is missing"),
        (#"{"v":2,"command":"stats"}"#, "protocol version 2 is not supported; this relayd speaks 1"),
        (#"{"v":1}"#, "\"command\" is missing"),
        (#"{"v":1,"command":"explode"}"#, "unknown command \"explode\""),
        (#"{"v":1,"command":"show"}"#, "\"id\" is missing"),
        (#"{"v":1,"command":"show","id":"../../etc/passwd"}"#, "\"id\" is not a queue id: ../../etc/passwd"),
        (#"{"v":1,"command":"hold","ids":[]}"#, "\"ids\" is empty"),
        (#"{"v":1,"command":"hold","ids":"01HX0000000AB"}"#, "\"ids\" must be an array, not a string"),
        (#"{"v":1,"command":"release","ids":["01HX0000000AB","x"]}"#, "\"ids\" holds something that is not a queue id: x"),
        (#"{"v":1,"command":"delete"}"#, "delete needs either \"ids\" or \"state\""),
        (#"{"v":1,"command":"delete","ids":["01HX0000000AB"],"state":"held"}"#, "delete needs either \"ids\" or \"state\""),
        (#"{"v":1,"command":"delete","state":"queued"}"#, "\"state\" must be one of \"failed\", \"deferred\", \"held\", not \"queued\""),
        (#"{"v":1,"command":"await_outcome","id":"01HX0000000AB","timeout_seconds":0}"#, "\"timeout_seconds\" must be between 1 and 3600"),
        (#"{"v":1,"command":"queue","filter":{"older_than_seconds":1.5}}"#, "\"older_than_seconds\" must be a whole number, not a number"),
    ])
    func badRequestsSayWhatIsWrong(json: String, message: String) {
        let error = #expect(throws: JSONError.self) { try ControlRequest(jsonBytes: Array(json.utf8)) }
        #expect(error?.message == message)
    }

    @Test func onlyChangesAreMarkedAsSuch() {
        #expect(ControlRequest.hold([Self.a]).changesState)
        #expect(ControlRequest.deleteState(.held).changesState)
        #expect(!ControlRequest.queue(.all).changesState)
        #expect(!ControlRequest.awaitOutcome(Self.a, timeoutSeconds: 1).changesState)
    }
}
