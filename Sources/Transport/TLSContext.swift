internal import COpenSSL

/// Shared TLS configuration (an SSL_CTX), built once and used by many connections.
///
/// Truly thread-safe, not just single-owner: the SSL_CTX is configured completely inside the factory
/// methods before anyone else can see it, and after that OpenSSL only reads it and bumps its reference
/// count (under its own lock) when `SSL_new` is called from any thread.
public final class TLSContext: Sendable {
    /// The SSL_CTX; `nonisolated(unsafe)` because OpaquePointer is not Sendable, see the type's comment.
    nonisolated(unsafe) let context: OpaquePointer
    /// Whether client connections check the peer's certificate and name (`SSL_VERIFY_PEER`).
    let verifiesPeer: Bool

    private init(context: OpaquePointer, verifiesPeer: Bool) {
        self.context = context
        self.verifiesPeer = verifiesPeer
    }

    deinit { SSL_CTX_free(context) }

    /// Client side: TLS 1.2 minimum; with `verifyCertificate`, the server's certificate must chain to
    /// `caFile` (a PEM bundle) or, when `caFile` is nil, to the system trust store (Debian: /etc/ssl/certs).
    public static func client(caFile: String?, verifyCertificate: Bool) throws(TLSError) -> TLSContext {
        try client(caFile: caFile, verifyCertificate: verifyCertificate, versions: .supported)
    }

    /// Server side (the test upstream now, inbound STARTTLS later): a PEM certificate chain (leaf first)
    /// and its private key, TLS 1.2 minimum.
    public static func server(certificateChainFile: String, privateKeyFile: String) throws(TLSError) -> TLSContext {
        try server(certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile, versions: .supported)
    }

    /// The protocol versions a context allows. Only tests widen it, to prove an old peer is refused.
    struct Versions {
        var minimum: Int32
        var maximum: Int32?
        /// Security level 0 as well, without which OpenSSL 3 will not speak TLS 1.0/1.1 at all.
        var allowsLegacy = false

        static let supported = Versions(minimum: TLS1_2_VERSION, maximum: nil)
    }

    static func client(caFile: String?, verifyCertificate: Bool, versions: Versions) throws(TLSError) -> TLSContext {
        let context = try makeContext(TLS_client_method(), versions: versions)
        if verifyCertificate {
            ERR_clear_error()
            let loaded = if let caFile {
                SSL_CTX_load_verify_locations(context, caFile, nil)
            } else {
                SSL_CTX_set_default_verify_paths(context)
            }
            guard loaded == 1 else {
                let reason = TLSError.openSSLErrors()
                SSL_CTX_free(context)
                throw .configuration("cannot load \(caFile.map { "CA file \($0)" } ?? "the system trust store"): \(reason)")
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        return TLSContext(context: context, verifiesPeer: verifyCertificate)
    }

    static func server(
        certificateChainFile: String, privateKeyFile: String, versions: Versions
    ) throws(TLSError) -> TLSContext {
        let context = try makeContext(TLS_server_method(), versions: versions)
        // TLS 1.2 suites: forward secret and AEAD only (Mozilla's "intermediate" list without DHE), which
        // every client from the last decade offers; TLS 1.3's own suites are all of that kind already.
        if !versions.allowsLegacy, SSL_CTX_set_cipher_list(context, Self.serverCipherList) != 1 {
            let reason = TLSError.openSSLErrors()
            SSL_CTX_free(context)
            throw .configuration("cannot set the cipher list: \(reason)")
        }
        func fail(_ what: String) -> TLSError {
            let reason = TLSError.openSSLErrors()
            SSL_CTX_free(context)
            return .configuration("\(what): \(reason)")
        }
        // The key first: loaded after the certificate, a key that does not fit fails as "cannot load …: key
        // values mismatch"; this way round the mismatch is found by the check below and named as such.
        ERR_clear_error()
        guard SSL_CTX_use_PrivateKey_file(context, privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
            throw fail("cannot load private key \(privateKeyFile)")
        }
        ERR_clear_error()
        guard SSL_CTX_use_certificate_chain_file(context, certificateChainFile) == 1 else {
            throw fail("cannot load certificate chain \(certificateChainFile)")
        }
        ERR_clear_error()
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw fail("private key \(privateKeyFile) does not match certificate \(certificateChainFile)")
        }
        return TLSContext(context: context, verifiesPeer: false)
    }

    /// The TLS 1.2 cipher suites the server side accepts.
    static let serverCipherList = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// The settings both sides share.
    private static func makeContext(_ method: OpaquePointer?, versions: Versions) throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let context = SSL_CTX_new(method) else {
            throw .configuration("cannot create an SSL_CTX: \(TLSError.openSSLErrors())")
        }
        if versions.allowsLegacy {
            SSL_CTX_set_security_level(context, 0)
        }
        // The version floor is a security promise (TLS 1.2 minimum); a context without it is not handed out.
        guard mr_SSL_CTX_set_min_proto_version(context, versions.minimum) == 1,
              versions.maximum.map({ mr_SSL_CTX_set_max_proto_version(context, $0) == 1 }) ?? true else {
            SSL_CTX_free(context)
            throw .configuration("cannot set the TLS protocol versions: \(TLSError.openSSLErrors())")
        }
        // AUTO_RETRY: SSL_read carries on past post-handshake records (TLS 1.3 session tickets) instead of
        // reporting WANT_READ while ciphertext is still buffered. ENABLE_PARTIAL_WRITE: SSL_write reports each
        // record as it goes, so progress through a large write is explicit. ACCEPT_MOVING_WRITE_BUFFER: the
        // retry after WANT_WRITE passes the same bytes but not necessarily the same address.
        _ = mr_SSL_CTX_set_mode(
            context, Int(SSL_MODE_AUTO_RETRY | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        // Renegotiation would let SSL_write need to read (and SSL_read need to write) mid-stream; SMTP has
        // no use for it, and TLS 1.3 removed it.
        _ = mr_SSL_CTX_set_options_no_renegotiation(context)
        return context
    }
}
