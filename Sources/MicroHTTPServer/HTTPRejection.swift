/// Why the HTTP layer refused a request before the application saw it.
public enum HTTPRejection: Sendable, Equatable {
    /// The body is larger than ``HTTPServerConfiguration/maxBodyBytes`` (answer 413). Raised from the
    /// `Content-Length` header before any body byte is read, or, for a chunked upload, once the
    /// received bytes pass the limit (the rest is read and discarded).
    case bodyTooLarge(limit: Int)
    /// The server is draining for shutdown and takes no new requests (answer 503).
    case shuttingDown
    /// Mutual TLS is configured and the client sent no certificate, or one the CA did not sign
    /// (answer 403).
    case clientCertificateRejected
    /// The request target (path and query) is longer than
    /// ``HTTPServerConfiguration/maxRequestTargetBytes`` (answer 414).
    case requestTargetTooLong(limit: Int)
    /// The header fields together are larger than ``HTTPServerConfiguration/maxHeaderBytes``
    /// (answer 431).
    case headerFieldsTooLarge(limit: Int)
}
