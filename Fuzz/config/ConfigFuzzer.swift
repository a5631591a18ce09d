// libFuzzer target `config`: the YAML config parser (RelaySettings.load), built by SwiftPM (see Package.swift).
//
// Invariants: any file either loads or throws ConfigurationError (typed throws: anything else is a crash), and
// settings that load render (redactedDescription, which promises to be a valid config file) to a file that loads
// back to the same settings, passwords aside (they render masked by design).
#if canImport(Glibc)
import Glibc
#endif
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

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // Configs are small; huge inputs only slow the search down.
    guard size <= 64 * 1024 else { return -1 }
    write(UnsafeBufferPointer(start: data, count: size), to: inputPath)
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

// SwiftPM links an executable's entry point under another name (ConfigFuzzer_main, aliased to main), so libFuzzer's
// own main is never linked: this entry point hands over to libFuzzer's driver instead. Without -DFUZZING (a plain
// build, no libFuzzer) it replays the files named on the command line, to reproduce a finding in a debugger.
#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt
#endif

@main
struct ConfigFuzzerMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
        #else
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else { fatalError("cannot open \(path)") }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&buffer, 1, buffer.count, file)
                if n <= 0 { break }
                bytes.append(contentsOf: buffer[..<n])
            }
            fclose(file)
            bytes.append(0)  // never empty, so there is a pointer to pass; the size excludes it
            _ = bytes.withUnsafeBufferPointer { fuzzOne($0.baseAddress!, $0.count - 1) }
            print("ok \(path)")
        }
        #endif
    }
}
