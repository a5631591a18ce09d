#if canImport(Glibc)
import Glibc
#endif

/// A Unix domain socket path ready for bind(2) or connect(2).
public struct UnixSocketAddress: Sendable {
    /// sun_path holds 108 bytes including the terminating NUL.
    public static let maximumPathLength = 107

    public let path: String

    /// Throws `.socketPathTooLong` for an empty path or one longer than `maximumPathLength` bytes.
    public init(path: String) throws(TransportError) {
        guard !path.isEmpty, path.utf8.count <= UnixSocketAddress.maximumPathLength, !path.utf8.contains(0) else {
            throw .socketPathTooLong(path: path)
        }
        self.path = path
    }

    public func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
