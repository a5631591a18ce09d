// libFuzzer target `config`: the YAML config parser (RelaySettings.load), built by SwiftPM (see Package.swift).
//
// Invariants: any file either loads or throws ConfigurationError (typed throws: anything else is a crash), and
// settings that load render (redactedDescription, which promises to be a valid config file) to a file that loads
// back to the same settings, passwords aside (they render masked by design).
#if canImport(Glibc)
import Glibc
#endif
import FuzzDriver
import RelayConfiguration

// One file per process, rewritten for every input: the loader only reads files by path.
private let inputPath: String = {
    var template = Array("/tmp/mailrelay-fuzz-config-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    precondition(fd >= 0, "mkstemp failed")
    close(fd)
    let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return path
}()

private func write(_ bytes: UnsafeBufferPointer<UInt8>, to path: String) {
    let fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0o600)
    precondition(fd >= 0, "cannot open \(path)")
    var offset = 0
    while offset < bytes.count {
        let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        precondition(n > 0, "cannot write \(path)")
        offset += n
    }
    close(fd)
}

private func load(_ path: String) -> Result<RelaySettings, ConfigurationError> {
    do throws(ConfigurationError) {
        return .success(try RelaySettings.load(configFile: path, environment: [:], defaultHostname: "fuzz.test"))
    } catch {
        return .failure(error)
    }
}

/// Passwords render as "<redacted>" or "", so they cannot survive the round trip; everything else must.
private func withoutPasswords(_ settings: RelaySettings) -> RelaySettings {
    var copy = settings
    copy.upstream.password = ""
    for index in copy.fallbackUpstreams.indices { copy.fallbackUpstreams[index].password = "" }
    return copy
}

private func fuzzOne(_ input: UnsafeBufferPointer<UInt8>) -> CInt {
    // Configs are small; huge inputs only slow the search down.
    guard input.count <= 64 * 1024 else { return -1 }
    write(input, to: inputPath)
    let first = load(inputPath)
    guard case .success(let settings) = first else { return 0 }

    // Deterministic: the same file gives the same settings.
    guard case .success(let again) = load(inputPath), again == settings else {
        fatalError("loading the same file twice gave different results")
    }

    let rendered = Array(settings.redactedDescription.utf8)
    rendered.withUnsafeBufferPointer { write($0, to: inputPath) }
    switch load(inputPath) {
    case .success(let reloaded):
        if withoutPasswords(reloaded) != withoutPasswords(settings) {
            fatalError("redactedDescription does not load back to the same settings:\n\(settings.redactedDescription)\n---\n\(reloaded.redactedDescription)")
        }
    case .failure(let error):
        fatalError("redactedDescription does not load: \(error)\n\(settings.redactedDescription)")
    }
    return 0
}

@main
struct ConfigFuzzerMain {
    static func main() { runFuzzTarget(fuzzOne) }
}
