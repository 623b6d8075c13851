/// A failure of a domain operation: the HRESULT the caller gets and why.
///
/// The HTTP status is not chosen here: `HResult.table` gives it, and the API layer answers with
/// it (`APIErrorConvertible`), this error reaching it unchanged.
public struct FirewallError: Error, Sendable, Equatable {
    /// The result code.
    public var hresult: HResult
    /// One sentence for people.
    public var detail: String
    /// Field-level causes, for E_INVALIDARG.
    public var fieldErrors: [FieldError]
    /// The bind that holds an address, for WSAEADDRINUSE.
    public var conflict: BindReference?
    /// Seconds a client should wait before retrying, for FWX_E_IS_BUSY.
    public var retryAfterSeconds: Int?
    /// In an array, the node that holds what was asked for: the answer is a redirect there.
    public var heldBy: HolderLocation?

    /// Creates an error.
    public init(
        _ hresult: HResult, _ detail: String, fieldErrors: [FieldError] = [],
        conflict: BindReference? = nil, retryAfterSeconds: Int? = nil
    ) {
        self.hresult = hresult
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.conflict = conflict
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// E_INVALIDARG naming one field.
    public static func invalid(_ field: String, _ reason: String) -> FirewallError {
        FirewallError(.E_INVALIDARG, "\(field.isEmpty ? "body" : field) \(reason)",
                      fieldErrors: [FieldError(field: field, reason: reason)])
    }

    /// The same error about one part of a larger request (`decisions[3]`): an E_INVALIDARG that
    /// names a field names it under `path`; any other error is returned as it is.
    public func nested(in path: String) -> FirewallError {
        guard hresult == .E_INVALIDARG, fieldErrors.count == 1 else { return self }
        let field = fieldErrors[0].field
        return .invalid(field.isEmpty ? path : path + "." + field, fieldErrors[0].reason)
    }

    /// ERROR_NOT_FOUND for one kind of object.
    public static func notFound(_ what: String, _ id: String) -> FirewallError {
        FirewallError(.ERROR_NOT_FOUND, "no \(what) with id '\(id)'")
    }
}

/// One invalid field of a request: its path in the body (`flags[0]`) and the reason.
public struct FieldError: Sendable, Equatable {
    /// The path of the field, e.g. `ipFilter.include[2]`; empty for the whole body.
    public var field: String
    /// Why it is invalid.
    public var reason: String

    /// Creates a field error.
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}

/// Names a bind in a session, e.g. the holder of a contested address.
public struct BindReference: Sendable, Equatable {
    /// The session that owns the bind.
    public var sessionID: String
    /// The bind's id.
    public var bindID: BindID

    /// Creates a reference.
    public init(sessionID: String, bindID: BindID) {
        self.sessionID = sessionID
        self.bindID = bindID
    }
}
