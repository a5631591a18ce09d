#if canImport(Glibc)
import Glibc
#endif
import Control
import Foundation

/// relayctl's output. Everything for stdout goes through `print` (C's buffered stdout), so table rows and
/// JSON lines streamed by the thousand keep their order and cost few writes; messages for the operator go
/// to stderr, unbuffered.
enum StandardStreams {
    /// A JSON value on a line of its own.
    static func printJSONLine(_ value: some JSONConvertible) {
        print(String(decoding: value.jsonBytes, as: UTF8.self))
    }

    /// `relayctl: ` and one sentence on stderr.
    static func printError(_ sentence: String) {
        printToStandardError("relayctl: \(sentence)\n")
    }

    /// Text on stderr as it is.
    static func printToStandardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Pushes what is buffered for stdout out now, before a wait.
    static func flush() {
        fflush(nil)
    }
}
