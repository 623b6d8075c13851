import FirewallSessions

/// The one place an HRESULT becomes an HTTP status and a problem title.
///
/// Conditions that share an HRESULT but not a status (401 and 403 E_ACCESSDENIED, 409 and 503
/// FWX_E_TERMINATING, 413 and 415 E_INVALIDARG) are chosen where they arise with
/// `APIError(status:...)`; everything else takes its status from here.
public enum HResultHTTPTable {
    /// The HTTP status for an HRESULT.
    public static func status(for hresult: HResult) -> Int {
        switch hresult {
        case .S_OK, .S_FALSE: 200
        case .E_INVALIDARG: 400
        case .ERROR_NOT_FOUND: 404
        case .FWX_E_TERMINATING: 409
        case .FWX_E_PROTOCOL_RULES_DENIED: 403
        case .FWX_E_ALREADY_EXISTS: 409
        case .WSAEADDRINUSE: 409
        case .ERROR_BUSY: 409
        case .ERROR_INVALID_STATE: 409
        case .FWX_E_IS_BUSY: 429
        case .E_ACCESSDENIED: 403
        case .ERROR_REVISION_MISMATCH: 412
        case .ERROR_INVALID_FUNCTION: 405
        case .ERROR_WRITE_FAULT: 503
        default: 500
        }
    }

    /// The problem title for an HRESULT.
    public static func title(for hresult: HResult) -> String {
        switch hresult {
        case .S_OK, .S_FALSE: "Success"
        case .E_INVALIDARG: "Invalid parameter"
        case .ERROR_NOT_FOUND: "Not found"
        case .FWX_E_TERMINATING: "Terminating"
        case .FWX_E_PROTOCOL_RULES_DENIED: "Denied by the access rules"
        case .FWX_E_ALREADY_EXISTS: "Already exists"
        case .WSAEADDRINUSE: "Address already bound"
        case .ERROR_BUSY: "Still in use"
        case .ERROR_INVALID_STATE: "Invalid state"
        case .FWX_E_IS_BUSY: "Quota reached"
        case .E_ACCESSDENIED: "Access denied"
        case .ERROR_REVISION_MISMATCH: "Policy version mismatch"
        case .ERROR_INVALID_FUNCTION: "Method not allowed"
        case .ERROR_WRITE_FAULT: "Durable store unavailable"
        default: "Unexpected failure"
        }
    }
}
