/// HTTPS through libmicrohttpd's GnuTLS support.
public struct HTTPTLSConfiguration: Sendable, Equatable {
    /// The server's certificate chain, PEM.
    public var certificatePEM: String
    /// The server's private key, PEM (unencrypted).
    public var privateKeyPEM: String
    /// When set, clients must present a certificate signed by this CA (PEM): mutual TLS.
    public var clientCertificateAuthorityPEM: String?

    /// Creates a TLS configuration.
    public init(certificatePEM: String, privateKeyPEM: String, clientCertificateAuthorityPEM: String? = nil) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.clientCertificateAuthorityPEM = clientCertificateAuthorityPEM
    }
}
