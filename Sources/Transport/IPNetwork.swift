#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 network in CIDR form (`10.0.0.0/8`, `fc00::/7`); a bare address is a /32 or /128.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network address, 4 or 16 bytes, with host bits cleared.
    public let address: [UInt8]
    /// The prefix length in bits.
    public let prefixLength: Int

    /// Parses `a.b.c.d/n`, `x:y::z/n` or a bare address; nil when malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = IPNetwork.parseAddress(String(parts[0])) else { return nil }
        let maxBits = bytes.count * 8
        var bits = maxBits
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), parts[1].count <= 3,
                  let n = Int(parts[1]), n <= maxBits else { return nil }
            bits = n
        }
        self.prefixLength = bits
        self.address = IPNetwork.mask(bytes, bits: bits)
    }

    /// Whether `bytes` (4 or 16 bytes) lies in this network. IPv4-mapped IPv6 addresses match IPv4 networks.
    public func contains(_ bytes: [UInt8]) -> Bool {
        var candidate = bytes
        if candidate.count == 16, address.count == 4,
           candidate[0..<10].allSatisfy({ $0 == 0 }), candidate[10] == 0xff, candidate[11] == 0xff {
            candidate = Array(candidate[12..<16])
        }
        guard candidate.count == address.count else { return false }
        return IPNetwork.mask(candidate, bits: prefixLength) == address
    }

    public var description: String {
        "\(IPNetwork.format(address))/\(prefixLength)"
    }

    /// Parses a textual IPv4 or IPv6 address (brackets allowed around IPv6) into its bytes.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// Formats 4 or 16 address bytes the way inet_ntop does.
    public static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func mask(_ bytes: [UInt8], bits: Int) -> [UInt8] {
        var out = bytes
        for i in 0..<out.count {
            let keep = max(0, min(8, bits - i * 8))
            out[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - keep))
        }
        return out
    }
}
