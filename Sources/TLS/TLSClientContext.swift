import COpenSSL

/// Settings shared by every client session: peer verification against the system trust store,
/// TLS 1.2 or newer. Create one per process and reuse it; SSL_CTX is safe to share once configured.
public final class TLSClientContext: @unchecked Sendable {
    let context: OpaquePointer

    /// Reads the trust store now (SSL_CTX_set_default_verify_paths, which honours SSL_CERT_FILE and
    /// SSL_CERT_DIR), so set those before creating the context.
    public init() throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError.openSSL("Could not create a TLS client context")
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        // HTTP servers often close without close_notify; HTTP framing (Content-Length, chunked)
        // detects truncation, so a bare TCP EOF is read as end of stream rather than an error.
        SSL_CTX_set_options(context, openidd_SSL_OP_IGNORE_UNEXPECTED_EOF())
        // Partial writes let `write` advance through a buffer itself; a moving buffer is allowed
        // because a retried Swift array need not keep its address.
        _ = openidd_SSL_CTX_set_mode(
            context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        guard openidd_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1,
            SSL_CTX_set_default_verify_paths(context) == 1
        else {
            let error = TLSError.openSSL(
                "Could not configure the TLS client context (TLS 1.2+, system trust store)")
            SSL_CTX_free(context)
            throw error
        }
        self.context = context
    }

    deinit {
        SSL_CTX_free(context)
    }
}
