#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A fresh directory under /tmp (mkdtemp), removed with everything in it by `remove()` or when released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(prefix: String = "mailrelay-test") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        path = String(cString: made)
    }

    deinit { remove() }

    /// Deletes the directory tree; safe to call twice.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// `path/name`.
    public func appending(_ name: String) -> String { path + "/" + name }
}

/// Runs `body` with a fresh temporary directory and removes it afterwards, also when `body` throws.
public func withTemporaryDirectory<T>(
    prefix: String = "mailrelay-test", _ body: (TemporaryDirectory) async throws -> T
) async throws -> T {
    let directory = try TemporaryDirectory(prefix: prefix)
    defer { directory.remove() }
    return try await body(directory)
}
