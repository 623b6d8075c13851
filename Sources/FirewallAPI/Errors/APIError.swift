import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// The one wire error: an RFC 9457 problem with `hresult` and `code` (or, for a write another
/// array node holds, a 307 redirect there).
///
/// Its status is its HRESULT's row of `HResult.table`, except for the few conditions named in
/// `APIError+Conditions.swift`; nothing else chooses one. Errors of the layers below reach the
/// responder unchanged and become an `APIError` there, once (`APIErrorConvertible`).
public struct APIError: Error, Sendable {
    /// The HTTP status.
    public let status: Int
    /// The HRESULT.
    public let hresult: HResult
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

    /// An answer with `hresult`, its status and title from the HRESULT table.
    init(_ hresult: HResult, _ detail: String, fieldErrors: [FieldError] = [], conflict: BindReference? = nil) {
        status = hresult.status
        self.hresult = hresult
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.conflict = conflict
    }

    /// An answer for one of the named conditions, which take their status from `Condition`.
    init(_ condition: Condition, _ detail: String, headers: [(name: String, value: String)] = []) {
        status = condition.status
        hresult = condition.hresult
        self.detail = detail
        self.headers = headers
    }

    /// The problem+json response for the request at `instance` (its path).
    public func response(instance: String) -> HTTPResponse {
        if let heldBy { return ArrayRedirect.response(to: heldBy, instance: instance, detail: detail) }
        var writer = JSONWriter(reservingCapacity: 384)
        writer.beginObject()
        writer.field("type", "urn:fwsessiond:hresult:" + hresult.name)
        writer.field("title", hresult.title)
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
