#if canImport(Glibc)
import Glibc
#endif
internal import COpenSSL

/// A sans-I/O TLS session: ciphertext in and out through a BIO pair, plaintext in and out through SSL_read
/// and SSL_write. It never touches a socket, so it is tested engine-to-engine and driven by `TLSConnection`.
///
/// Not thread-safe and not Sendable: one owner calls it, one step at a time.
final class TLSEngine {
    /// Which end of the handshake this engine plays.
    enum Role {
        /// Sends SNI (unless `serverName` is an IP literal) and, if the context verifies, checks the name.
        case client(serverName: String)
        case server
    }

    /// Each direction's ciphertext buffer: one full TLS record (16 KiB of plaintext plus the largest
    /// overhead), so memory per session is bounded and a record needs at most two socket writes.
    static let bufferSize = 17 * 1024

    private let ssl: OpaquePointer
    /// Our end of the BIO pair; the other end is the SSL's own read and write BIO.
    private let network: OpaquePointer
    private let verifiesPeer: Bool
    /// Set after a fatal error, when OpenSSL forbids further calls such as SSL_shutdown.
    private var hasFailed = false
    private var didShutdown = false

    init(context: TLSContext, role: Role) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw .configuration("cannot create an SSL session: \(TLSError.openSSLErrors())")
        }
        var inner: OpaquePointer?
        var outer: OpaquePointer?
        guard BIO_new_bio_pair(&inner, TLSEngine.bufferSize, &outer, TLSEngine.bufferSize) == 1,
              let inner, let outer
        else {
            SSL_free(ssl)
            throw .configuration("cannot create a BIO pair: \(TLSError.openSSLErrors())")
        }
        SSL_set_bio(ssl, inner, inner)  // one BIO for both directions: SSL_set_bio takes a single reference
        self.ssl = ssl
        self.network = outer
        self.verifiesPeer = context.verifiesPeer

        switch role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client(let serverName):
            SSL_set_connect_state(ssl)
            try configureClient(serverName: serverName)
        }
    }

    deinit {
        SSL_free(ssl)  // frees the inner BIO with it
        BIO_free(network)
    }

    /// SNI and the name the certificate must carry.
    private func configureClient(serverName: String) throws(TLSError) {
        let ipLiteral = TLSEngine.ipLiteral(serverName)
        ERR_clear_error()
        if ipLiteral == nil, mr_SSL_set_tlsext_host_name(ssl, serverName) != 1 {
            throw .configuration("cannot send server name \(serverName): \(TLSError.openSSLErrors())")
        }
        guard verifiesPeer else { return }
        let accepted: Int32
        if let ipLiteral {
            accepted = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ipLiteral)
        } else {
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            accepted = SSL_set1_host(ssl, serverName)
        }
        guard accepted == 1 else {
            throw .configuration("cannot check the certificate against \(serverName): \(TLSError.openSSLErrors())")
        }
    }

    /// `serverName` without brackets if it is a numeric IPv4 or IPv6 address, which SNI must not carry.
    static func ipLiteral(_ serverName: String) -> String? {
        let bare = serverName.hasPrefix("[") && serverName.hasSuffix("]")
            ? String(serverName.dropFirst().dropLast()) : serverName
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1 ? bare : nil
    }

    // MARK: Plaintext side

    /// Advances the handshake as far as the buffered ciphertext allows.
    func handshake() -> TLSProgress<Void> {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .done(()) }
        let progress: TLSProgress<Void> = classify(result)
        if case .closed = progress { return .failed(.handshakeFailed("the peer sent close_notify during the handshake")) }
        return progress
    }

    /// Decrypts up to `maxBytes` of plaintext and hands it to `consume`. Never reports 0 bytes: end of
    /// stream is `.closed`.
    func read(maxBytes: Int, _ consume: (UnsafeBufferPointer<UInt8>) -> Void) -> TLSProgress<Int> {
        precondition(maxBytes > 0, "read at least one byte")
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxBytes) { scratch in
            var progress = TLSProgress<Int>.wantsInput
            // Defensive, bounded retry: WANT_READ while ciphertext is still buffered would wait forever on a
            // peer that is itself waiting. AUTO_RETRY should prevent it, so this normally runs once.
            for _ in 0..<4 {
                var count = 0
                ERR_clear_error()
                let result = SSL_read_ex(ssl, scratch.baseAddress, maxBytes, &count)
                if result == 1 {
                    consume(UnsafeBufferPointer(rebasing: scratch[0..<count]))
                    return .done(count)
                }
                progress = classify(result)
                guard case .wantsInput = progress, mr_BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0 else { break }
            }
            return progress
        }
    }

    /// Encrypts a prefix of `bytes` (at most one record); returns how many bytes were taken. After
    /// `.wantsOutput`, call again with the same bytes.
    func write(_ bytes: UnsafeRawBufferPointer) -> TLSProgress<Int> {
        guard !bytes.isEmpty else { return .done(0) }
        var written = 0
        ERR_clear_error()
        let result = SSL_write_ex(ssl, bytes.baseAddress, min(bytes.count, 16 * 1024), &written)
        return result == 1 ? .done(written) : classify(result)
    }

    /// Queues close_notify (best effort; nothing waits for the peer's). Safe to call twice.
    func shutdown() {
        guard !hasFailed, !didShutdown, SSL_is_init_finished(ssl) == 1 else { return }
        didShutdown = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Turns a failed SSL call's result into what to do next (never `.done`). Must run right after the call.
    private func classify<Value>(_ result: Int32) -> TLSProgress<Value> {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ:
            return .wantsInput
        case SSL_ERROR_WANT_WRITE:
            return .wantsOutput
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        case SSL_ERROR_SSL, SSL_ERROR_SYSCALL:
            hasFailed = true
            let reason = TLSError.openSSLErrors()
            // After the handshake a fatal error means the session ended without close_notify (the peer broke
            // the protocol or vanished). It is not `.handshakeFailed`: callers may treat that one as "this
            // peer cannot do TLS", which a broken session later on does not show.
            guard SSL_is_init_finished(ssl) != 1 else { return .failed(.closed) }
            let verification = SSL_get_verify_result(ssl)
            if verifiesPeer, verification != Int(X509_V_OK) {
                return .failed(.certificateNotVerified(String(cString: X509_verify_cert_error_string(verification))))
            }
            return .failed(.handshakeFailed(reason))
        default:
            hasFailed = true
            return .failed(.handshakeFailed("unexpected SSL_get_error \(code): \(TLSError.openSSLErrors())"))
        }
    }

    // MARK: Ciphertext side

    /// How many ciphertext bytes `receive` accepts right now.
    var inputCapacity: Int { BIO_ctrl_get_write_guarantee(network) }

    /// Buffers ciphertext from the peer; returns how much fitted (at most `inputCapacity`).
    func receive(_ ciphertext: UnsafeBufferPointer<UInt8>) -> Int {
        guard !ciphertext.isEmpty else { return 0 }
        ERR_clear_error()
        let n = BIO_write(network, ciphertext.baseAddress, Int32(min(ciphertext.count, Int(Int32.max))))
        return max(Int(n), 0)
    }

    /// Ciphertext waiting to be sent to the peer.
    var pendingOutput: Int { mr_BIO_ctrl_pending(network) }

    /// Moves all pending ciphertext to the end of `buffer`.
    func takeOutput(into buffer: inout [UInt8]) {
        let pending = pendingOutput
        guard pending > 0 else { return }
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: pending))
        let n = buffer.withUnsafeMutableBytes { raw in
            BIO_read(network, raw.baseAddress! + start, Int32(pending))
        }
        buffer.removeLast(pending - max(Int(n), 0))
    }

    // MARK: Session facts

    /// The negotiated protocol, e.g. "TLSv1.3".
    var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// The negotiated cipher suite's OpenSSL name, e.g. "TLS_AES_256_GCM_SHA384".
    var cipher: String {
        guard let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) else { return "none" }
        return String(cString: name)
    }

    /// The SNI name the client sent (server side), if any.
    var requestedServerName: String? {
        SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
    }
}
