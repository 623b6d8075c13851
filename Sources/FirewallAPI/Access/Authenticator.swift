/// Checks `Authorization: Bearer <token>` against the configured token hashes.
///
/// The presented token is hashed and compared with every configured hash in constant time (no
/// early exit on the first differing byte or the first match), so timing tells nothing about
/// which bytes or which token matched.
public struct Authenticator: Sendable {
    private let tokens: [AccessToken]

    /// With no tokens, access control is off (the server then refuses to listen beyond loopback).
    public init(tokens: [AccessToken]) { self.tokens = tokens }

    /// Whether tokens are required.
    public var isEnabled: Bool { !tokens.isEmpty }

    /// Why a request was not authenticated.
    public enum Failure: Error, Sendable, Equatable {
        /// No `Authorization: Bearer` header.
        case missing
        /// A token that matches no configured hash.
        case invalid
    }

    /// The principal for an `Authorization` header value.
    public func authenticate(_ authorization: String?) -> Result<Principal, Failure> {
        guard isEnabled else { return .success(.loopback) }
        guard let authorization, let token = Self.bearerToken(authorization) else { return .failure(.missing) }
        let digest = AccessToken.digest(token)
        var match: AccessToken?
        for candidate in tokens {
            var difference: UInt8 = 0
            for index in 0..<32 { difference |= candidate.sha256[index] ^ digest[index] }
            if difference == 0 && match == nil { match = candidate }
        }
        guard let match else { return .failure(.invalid) }
        return .success(Principal(name: match.name, role: match.role))
    }

    /// The token of `Bearer <token>` (scheme case-insensitive), or nil.
    static func bearerToken(_ header: String) -> String? {
        let trimmed = header.trimmingSpaces()
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = String(trimmed.dropFirst(7)).trimmingSpaces()
        return token.isEmpty ? nil : token
    }
}
