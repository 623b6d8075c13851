import CGnuTLS

/// SHA-256 from GnuTLS, which this module links for TLS anyway, so layers above hash (bearer
/// tokens are kept only as their hashes) without a crypto library of their own.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        let code = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { fws_sha256(input.baseAddress, input.count, $0.baseAddress) }
        }
        precondition(code == 0, "gnutls SHA-256 failed: \(code)")
        return digest
    }
}
