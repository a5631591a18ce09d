#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Transport

/// A throwaway certificate authority for TLS tests: ECDSA P-256 keys and certificates valid for one day,
/// made with the `openssl` CLI in a temporary directory that is removed with the last copy of the value.
///
/// Each call runs `openssl` and waits for it (tens of milliseconds), so make one per test, up front.
public struct TestCertificateAuthority: Sendable {
    /// The CA certificate (PEM), for `TLSContext.client(caFile:verifyCertificate:)`.
    public let caFile: String
    private let caKeyFile: String
    private let directory: TemporaryDirectory

    /// Why making a key or certificate failed: the command and what openssl said.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Creates the CA's key and self-signed certificate.
    public init() throws {
        directory = try TemporaryDirectory(prefix: "mailrelay-ca")
        caFile = directory.appending("ca.pem")
        caKeyFile = directory.appending("ca.key")
        let config = directory.appending("ca.cnf")
        try Self.configuration(extensions: """
            basicConstraints = critical,CA:TRUE
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = hash
            """).write(toFile: config, atomically: true, encoding: .utf8)
        try Self.openssl(Self.newCertificate(config: config, commonName: "MailRelay Test CA", key: caKeyFile, certificate: caFile))
    }

    /// A server certificate signed by this CA for `names` (DNS names or IP addresses, all in its
    /// subjectAltName; the first is also its common name). The chain file holds the leaf only, as a
    /// server normally sends it: clients must trust `caFile` to verify it.
    public func issue(names: [String]) throws -> (certificateChainFile: String, privateKeyFile: String) {
        try leaf(names: names, signedByCA: true)
    }

    /// A self-signed server certificate for `names`, which no trust store vouches for.
    public func selfSigned(names: [String]) throws -> (certificateChainFile: String, privateKeyFile: String) {
        try leaf(names: names, signedByCA: false)
    }

    /// A server context presenting a certificate issued by this CA for `names`.
    public func serverContext(names: [String]) throws -> TLSContext {
        let files = try issue(names: names)
        return try TLSContext.server(certificateChainFile: files.certificateChainFile, privateKeyFile: files.privateKeyFile)
    }

    /// A client context that trusts this CA alone and verifies the server's name.
    public func clientContext() throws -> TLSContext {
        try TLSContext.client(caFile: caFile, verifyCertificate: true)
    }

    private func leaf(names: [String], signedByCA: Bool) throws -> (certificateChainFile: String, privateKeyFile: String) {
        guard let first = names.first else { throw Failure(description: "a certificate needs at least one name") }
        let stem = directory.appending("leaf-\(UInt64.random(in: 0...UInt64.max))")
        let alternativeNames = names.map { name in
            let bare = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
            return Self.isIPAddress(bare) ? "IP:\(bare)" : "DNS:\(bare)"
        }
        let config = stem + ".cnf"
        try Self.configuration(extensions: """
            basicConstraints = critical,CA:FALSE
            keyUsage = critical,digitalSignature
            extendedKeyUsage = serverAuth
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid
            subjectAltName = \(alternativeNames.joined(separator: ","))
            """).write(toFile: config, atomically: true, encoding: .utf8)
        var arguments = Self.newCertificate(
            config: config, commonName: String(first.prefix(64)), key: stem + ".key", certificate: stem + ".pem")
        if signedByCA { arguments += ["-CA", caFile, "-CAkey", caKeyFile] }
        try Self.openssl(arguments)
        return (stem + ".pem", stem + ".key")
    }

    /// A config for `openssl req` with nothing from the system's openssl.cnf, so the extensions are exactly ours.
    private static func configuration(extensions: String) -> String {
        """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = unused
        [ext]
        \(extensions)

        """
    }

    private static func newCertificate(config: String, commonName: String, key: String, certificate: String) -> [String] {
        [
            "req", "-x509", "-config", config, "-extensions", "ext", "-subj", "/CN=\(commonName)",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "1",
        ]
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "openssl \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): "
                + String(decoding: output, as: UTF8.self))
        }
    }
}
