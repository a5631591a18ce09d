import Foundation

/// A fresh directory under the system temp dir, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "relay-config-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `content` to `name` inside the directory and returns the file's path.
    @discardableResult
    func write(_ name: String, _ content: String) throws -> String {
        let file = path + "/" + name
        try content.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// The repository root, for tests that load the shipped config/ files.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
