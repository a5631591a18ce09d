#if canImport(Glibc)
import Glibc
#endif

/// The numeric address and port of a socket's peer or local end.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6 (IPv4-mapped IPv6 addresses are reported as IPv4).
    public var bytes: [UInt8]
    public var port: UInt16

    public init(bytes: [UInt8], port: UInt16) {
        self.bytes = bytes
        self.port = port
    }

    /// The address alone, as inet_ntop prints it.
    public var host: String { IPNetwork.format(bytes) }

    public var description: String { bytes.count == 16 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// 127.0.0.0/8 or ::1: a client on this machine.
    public var isLoopback: Bool {
        bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    init?(_ storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let sin = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            var addr = sin.sin_addr
            self.init(bytes: withUnsafeBytes(of: &addr) { Array($0) }, port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            var addr = sin6.sin6_addr
            var bytes = withUnsafeBytes(of: &addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
                bytes = Array(bytes[12..<16])
            }
            self.init(bytes: bytes, port: UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }
}
