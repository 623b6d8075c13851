import FirewallSessions
import MicroHTTPServer

/// An error that knows its answer on the wire, like grpc-swift's `RPCErrorConvertible`: errors of
/// the layers below (the domain's `FirewallError` above all) are thrown up to the responder
/// unchanged, and become problem+json there, in one place.
public protocol APIErrorConvertible: Error {
    /// The wire error this error is answered with.
    var apiError: APIError { get }
}

extension APIError: APIErrorConvertible {
    public var apiError: APIError { self }
}

extension FirewallError: APIErrorConvertible {
    /// Its row of the HRESULT table; a redirect when another array node holds what was asked for;
    /// `Retry-After` for a quota (configured) and for a failing sink.
    public var apiError: APIError {
        if let heldBy { return .heldByAnotherNode(heldBy, detail) }
        var error = APIError(hresult, detail, fieldErrors: fieldErrors, conflict: conflict)
        if let seconds = retryAfterSeconds ?? (hresult == .ERROR_WRITE_FAULT ? RetryAfter.writeFault : nil) {
            error.headers.append((name: "Retry-After", value: String(seconds)))
        }
        return error
    }
}

extension HTTPRejection: APIErrorConvertible {
    public var apiError: APIError {
        switch self {
        case .bodyTooLarge(let limit): .bodyTooLarge(limit: limit)
        case .shuttingDown: .shuttingDown
        case .clientCertificateRejected: .forbidden("a client certificate signed by the configured CA is required")
        case .requestTargetTooLong(let limit): .requestTargetTooLong(limit: limit)
        case .headerFieldsTooLarge(let limit): .headerFieldsTooLarge(limit: limit)
        @unknown default: APIError(.E_INVALIDARG, "the request was refused")
        }
    }
}

extension Authenticator.Failure: APIErrorConvertible {
    public var apiError: APIError { .unauthenticated(self) }
}

extension EventHub.SubscribeFailure: APIErrorConvertible {
    public var apiError: APIError {
        switch self {
        case .tooManySubscribers(let limit):
            FirewallError(
                .FWX_E_IS_BUSY, "the limit of \(limit) event subscribers is reached", retryAfterSeconds: RetryAfter.eventSubscribers
            ).apiError
        case .shuttingDown: .shuttingDown
        }
    }
}
