// The entry point of the SwiftPM-built fuzz targets (config, envelope). SwiftPM links an executable's entry point
// under another name (…_main, aliased to main), so libFuzzer's own main is never linked: this hands over to
// libFuzzer's driver instead. Built without -DFUZZING (no libFuzzer), it replays the files named on the command
// line, to reproduce a finding in a debugger.
#if canImport(Glibc)
import Glibc
#endif

/// The target's test of one input; a C callback cannot capture it, so it waits here.
nonisolated(unsafe) private var testOneInput: ((UnsafeBufferPointer<UInt8>) -> CInt)?

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

/// Runs `test` on every input libFuzzer generates (or on each file given, without -DFUZZING) and exits.
/// `test` returns 0, or -1 to keep an input out of the corpus (libFuzzer's convention).
public func runFuzzTarget(_ test: @escaping (UnsafeBufferPointer<UInt8>) -> CInt) -> Never {
    testOneInput = test
    #if FUZZING
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in testOneInput!(UnsafeBufferPointer(start: data, count: size)) })
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
        _ = bytes.withUnsafeBufferPointer { testOneInput!($0) }
        print("ok \(path)")
    }
    exit(0)
    #endif
}
