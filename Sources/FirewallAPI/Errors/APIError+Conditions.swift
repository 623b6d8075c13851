import FirewallSessions

extension APIError {
    /// The answers whose status is not their HRESULT's row: each shares its HRESULT with another
    /// status, as API.md's table has it. With `HResult.table`, this is the only place a status is
    /// chosen.
    public enum Condition: String, Sendable, CaseIterable {
        /// 401 E_ACCESSDENIED (403 is a role that does not permit the call): no bearer token, or
        /// one that matches no configured hash.
        case unauthenticated
        /// 413 E_INVALIDARG: the body is larger than the limit.
        case bodyTooLarge
        /// 414 E_INVALIDARG: the request target (path and query) is too long.
        case requestTargetTooLong
        /// 415 E_INVALIDARG: a body sent without `Content-Type: application/json`.
        case unsupportedMediaType
        /// 431 E_INVALIDARG: the request's header fields are too large.
        case headerFieldsTooLarge
        /// 503 FWX_E_TERMINATING (409 is a terminating bind or session): the server is shutting down.
        case shuttingDown
        /// 307 (its HRESULT is S_OK, the 200 of the same request at the right node): in an array,
        /// another live node holds the session or bind.
        case heldByAnotherNode

        /// The HTTP status.
        public var status: Int {
            switch self {
            case .unauthenticated: 401
            case .bodyTooLarge: 413
            case .requestTargetTooLong: 414
            case .unsupportedMediaType: 415
            case .headerFieldsTooLarge: 431
            case .shuttingDown: 503
            case .heldByAnotherNode: 307
            }
        }

        /// The HRESULT it shares with its row's status.
        public var hresult: HResult {
            switch self {
            case .unauthenticated: .E_ACCESSDENIED
            case .bodyTooLarge, .requestTargetTooLong, .unsupportedMediaType, .headerFieldsTooLarge: .E_INVALIDARG
            case .shuttingDown: .FWX_E_TERMINATING
            case .heldByAnotherNode: .S_OK
            }
        }
    }

    // MARK: The named conditions

    /// 401: no bearer token, or one that matches no configured hash, with the challenge RFC 6750 asks for.
    static func unauthenticated(_ failure: Authenticator.Failure) -> APIError {
        switch failure {
        case .missing:
            APIError(
                .unauthenticated, "a bearer token is required (Authorization: Bearer <token>)",
                headers: [(name: "WWW-Authenticate", value: "Bearer realm=\"fwsessiond\"")])
        case .invalid:
            APIError(
                .unauthenticated, "the bearer token is not valid",
                headers: [(name: "WWW-Authenticate", value: "Bearer realm=\"fwsessiond\", error=\"invalid_token\"")])
        }
    }

    /// 413: the body is larger than `limit` bytes.
    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(.bodyTooLarge, "the request body is larger than the limit of \(limit) bytes")
    }

    /// 414: the request target is longer than `limit` bytes.
    static func requestTargetTooLong(limit: Int) -> APIError {
        APIError(.requestTargetTooLong, "the request target (path and query) is longer than the limit of \(limit) bytes")
    }

    /// 431: the request's header fields are larger than `limit` bytes.
    static func headerFieldsTooLarge(limit: Int) -> APIError {
        APIError(.headerFieldsTooLarge, "the request's header fields are larger than the limit of \(limit) bytes")
    }

    /// 415: a body sent as `contentType` instead of JSON.
    static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(
            .unsupportedMediaType, "request bodies must be sent with Content-Type: application/json (got '\(contentType)')")
    }

    /// 503 FWX_E_TERMINATING: the server is draining for shutdown.
    static let shuttingDown = APIError(
        .shuttingDown, "the server is shutting down", headers: [(name: "Retry-After", value: String(RetryAfter.shuttingDown))])

    /// 307 to the node that holds what was asked for.
    static func heldByAnotherNode(_ holder: HolderLocation, _ detail: String) -> APIError {
        var error = APIError(.heldByAnotherNode, detail)
        error.heldBy = holder
        return error
    }

    // MARK: Answers of the HTTP layer, with their HRESULT's status

    /// 400 E_INVALIDARG naming one field.
    static func invalid(_ field: String, _ reason: String) -> APIError {
        FirewallError.invalid(field, reason).apiError
    }

    /// 403 E_ACCESSDENIED: the caller may not do this (its role, a browser without tokens, no client certificate).
    static func forbidden(_ detail: String) -> APIError { APIError(.E_ACCESSDENIED, detail) }

    /// 404: no route has this path.
    static let noSuchResource = APIError(.ERROR_NOT_FOUND, "no such resource")

    /// 405 with the methods the path has (`Allow`).
    static func methodNotAllowed(_ method: String, allowed: [String]) -> APIError {
        var error = APIError(.ERROR_INVALID_FUNCTION, "\(method) is not supported on this resource")
        error.headers = [(name: "Allow", value: allowed.joined(separator: ", "))]
        return error
    }

    /// 500 E_FAIL: what went wrong is logged, not answered.
    static let unexpected = APIError(.E_FAIL, "unexpected failure; the server log has the details")
}

/// Every `Retry-After` the server sends, but the quotas' (their wait is configured,
/// `limits.quotaRetryAfterSeconds`, and travels in the domain's error).
enum RetryAfter {
    /// A server shutting down is restarted, or its peers take over, within about a second.
    static let shuttingDown = 1
    /// A failing sink is retried every second; five give it a few attempts before the client's.
    static let writeFault = 5
    /// The event subscriber limit: a subscriber leaves when its client goes.
    static let eventSubscribers = 5
}
