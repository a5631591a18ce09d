import FastJSON
import Testing

/// Inputs scripts/fuzz found (target `json`), kept as regression tests of the fix.
///
/// `Double(String)` returns ±infinity for an exponent out of range instead of nil, so JSONParser's
/// "number out of range" refusal never fires: "1e400" parses as `.double(.infinity)`, which JSONWriter writes as
/// `null` (JSON has no infinity), so what the parser accepted does not survive a write and a re-read.
@Suite("Fuzz regressions: JSONParser")
struct FuzzRegressionTests {
    @Test("a number beyond Double's range is refused", arguments: ["1e400", "-1e400", "[1E999]", "{\"a\":123456789e9999}"])
    func outOfRangeNumberIsRefused(_ text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test("the fuzzer's input: what is accepted writes and parses back equal")
    func fuzzInputRoundTrips() throws {
        // crash-4f8c0ce5c578118e2e3e5f068641e9a893ee686a: "\t", 8 CRs, "\t", the number, 8 CRs.
        let input: [UInt8] = [0x09] + Array(repeating: 0x0D, count: 8) + [0x09] + Array("11333333E33333333333333332".utf8)
            + Array(repeating: 0x0D, count: 8)
        guard let value = try? JSONParser.parse(input) else { return }  // refusing it is a fix too
        var writer = JSONWriter()
        writer.value(value)
        #expect(try JSONParser.parse(writer.bytes) == value)
    }
}
