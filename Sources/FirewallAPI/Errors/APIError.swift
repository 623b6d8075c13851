import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// The one wire error: an RFC 9457 problem with `hresult` and `code`.
public struct APIError: Error, Sendable {
    /// The HTTP status.
    public var status: Int
    /// The HRESULT.
    public var hresult: HResult
    /// One sentence for people.
    public var detail: String
    /// Field-level causes.
    public var fieldErrors: [FieldError] = []
    /// The holder of a contested address.
    public var conflict: BindReference?
    /// Extra response headers (Retry-After, Allow, WWW-Authenticate).
    public var headers: [(name: String, value: String)] = []
    /// In an array, the node that holds what was asked for: the answer is `307` there.
    public var heldBy: HolderLocation?

    /// An error with an explicit status (for the conditions the table cannot decide).
    public init(status: Int, _ hresult: HResult, _ detail: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.hresult = hresult
        self.detail = detail
        self.headers = headers
    }

    /// A domain error, with its status from `HResultHTTPTable`.
    public init(_ error: FirewallError) {
        status = HResultHTTPTable.status(for: error.hresult)
        hresult = error.hresult
        detail = error.detail
        fieldErrors = error.fieldErrors
        conflict = error.conflict
        if let seconds = error.retryAfterSeconds { headers.append((name: "Retry-After", value: String(seconds))) }
        if error.hresult == .ERROR_WRITE_FAULT { headers.append((name: "Retry-After", value: "5")) }
        if let holder = error.heldBy {
            status = 307
            heldBy = holder
        }
    }

    /// E_INVALIDARG naming one field.
    public static func invalid(_ field: String, _ reason: String) -> APIError {
        APIError(FirewallError.invalid(field, reason))
    }

    /// The problem+json response for the request at `instance` (its path).
    public func response(instance: String) -> HTTPResponse {
        if let heldBy { return ArrayRedirect.response(to: heldBy, instance: instance, detail: detail) }
        var writer = JSONWriter(reservingCapacity: 384)
        writer.beginObject()
        writer.field("type", "urn:fwsessiond:hresult:" + hresult.name)
        writer.field("title", HResultHTTPTable.title(for: hresult))
        writer.field("status", status)
        writer.field("detail", detail)
        writer.field("instance", instance)
        writer.field("hresult", hresult.name)
        writer.field("code", hresult.code)
        if !fieldErrors.isEmpty {
            writer.key("errors")
            writer.beginArray()
            for error in fieldErrors {
                writer.beginObject()
                writer.field("field", error.field)
                writer.field("reason", error.reason)
                writer.endObject()
            }
            writer.endArray()
        }
        if let conflict {
            writer.key("conflict")
            writer.beginObject()
            writer.field("sessionId", conflict.sessionID)
            writer.field("bindId", conflict.bindID.description)
            writer.endObject()
        }
        writer.endObject()
        var responseHeaders = HTTPHeaders([(name: "Content-Type", value: "application/problem+json")])
        for header in headers { responseHeaders.add(name: header.name, value: header.value) }
        return HTTPResponse(status: status, headers: responseHeaders, body: writer.bytes)
    }
}
