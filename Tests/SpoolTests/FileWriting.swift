import Foundation

extension Array where Element == UInt8 {
    /// Writes the bytes to `path`, replacing what is there: for planting the files a crash leaves.
    func write(to path: String) throws {
        try Data(self).write(to: URL(fileURLWithPath: path))
    }
}

/// The bytes of the file at `path`.
func contents(of path: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
}
