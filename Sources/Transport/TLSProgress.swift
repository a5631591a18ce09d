/// The outcome of one TLS engine step, decided at the C boundary.
///
/// OpenSSL answers every call with an integer, `SSL_get_error`, and a per-thread error queue that is only
/// meaningful until the next OpenSSL call on that thread. Turning all of it into this value inside the
/// engine's synchronous methods keeps that discipline in one place, and callers switch exhaustively over what
/// to do next instead of decoding SSL_ERROR_* codes after an `await` may have moved them to another thread.
enum TLSProgress<Value> {
    /// The step finished: handshake complete (`Void`), or the number of plaintext bytes read or written.
    case done(Value)
    /// WANT_READ: feed ciphertext from the peer (`receive`), then repeat the step.
    case wantsInput
    /// WANT_WRITE: the outgoing ciphertext buffer is full; send it (`takeOutput`), then repeat the step with
    /// the same arguments (OpenSSL has kept part of them).
    case wantsOutput
    /// The peer sent close_notify: a clean end of stream.
    case closed
    /// A fatal error; the session is unusable.
    case failed(TLSError)
}
