import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// A request as handlers see it: the HTTP request, its path parameters and decoded query.
public struct APIRequest: Sendable {
    /// The raw HTTP request.
    public let http: HTTPRequest
    /// The matched route.
    public let route: Route
    /// Decoded path parameters by template name.
    public let pathParameters: [String: String]
    /// The decoded query.
    public let query: QueryParameters
    /// Who is calling.
    public let principal: Principal
    /// This request's id (`X-Request-Id`: the client's, or ours), shared by its access and audit
    /// log lines and sent back in the answer.
    public let requestID: String

    /// Who asks, for the audit record of the change this request makes.
    var auditContext: AuditContext { AuditContext(token: principal.name, requestID: requestID) }

    /// A path parameter (always present: the route matched).
    func parameter(_ name: String) -> String { pathParameters[name] ?? "" }

    /// The `{bindId}` parameter as a bind id; an id of another shape cannot exist (404).
    func bindID(_ name: String = "bindId") throws(FirewallError) -> BindID {
        guard let id = BindID(parameter(name)) else { throw .notFound("bind", parameter(name)) }
        return id
    }

    /// The body as a JSON object reader: requires `Content-Type: application/json` (else 415) and
    /// well-formed JSON (else E_INVALIDARG with the byte offset).
    func jsonBody() throws(APIError) -> JSONObjectReader {
        try requireJSONContentType()
        let value: JSONValue
        do {
            value = try JSONParser.parse(http.body)
        } catch {
            throw APIError.invalid("", "is not valid JSON: \(error.reason) at byte \(error.offset)")
        }
        do {
            return try JSONObjectReader(value)
        } catch {
            throw APIError.invalid(error.field, error.reason)
        }
    }

    /// The body as a JSON value of any type, with the same checks as `jsonBody()`.
    func jsonValue() throws(APIError) -> JSONValue {
        try requireJSONContentType()
        do {
            return try JSONParser.parse(http.body)
        } catch {
            throw APIError.invalid("", "is not valid JSON: \(error.reason) at byte \(error.offset)")
        }
    }

    /// Operations without a body take none, or an empty JSON object: generated clients and
    /// `curl -d '{}'` send one (the latter as a form, so its media type is not checked). Any other
    /// body is a client mistake.
    func requireNoBody() throws(APIError) {
        guard !http.body.isEmpty else { return }
        guard case .object(let object)? = try? JSONParser.parse(http.body), object.isEmpty else {
            throw .invalid("", "must be empty or {}, as this operation takes no request body")
        }
    }

    /// A non-empty body sent as `application/json` (else 400 or 415).
    func requireJSONContentType() throws(APIError) {
        guard !http.body.isEmpty else { throw .invalid("", "is required: send a JSON object with Content-Type: application/json") }
        let contentType = http.headers["Content-Type"] ?? ""
        // What nearly every client sends, checked without allocating.
        if contentType.utf8.elementsEqual("application/json".utf8) { return }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingSpaces().lowercased()
        } ?? ""
        guard mediaType == "application/json" else {
            throw .unsupportedMediaType(contentType)
        }
    }

    /// The `If-Match` header as a policy version: nil when absent or `*`; a value that cannot be a
    /// version of ours never matches (412). A percent-encoded value (`%227%22`, `%2A`) is decoded
    /// first: swift-openapi-runtime writes header values that way, and an entity tag never holds `%`.
    func ifMatchPolicyVersion() throws(APIError) -> Int64? {
        guard let raw = http.headers["If-Match"] else { return nil }
        let header = PercentDecoding.decode(Substring(raw), plusIsSpace: false) ?? raw
        let trimmed = header.trimmingSpaces()
        if trimmed == "*" { return nil }
        var tag = Substring(trimmed)
        if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
        if tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count >= 2 { tag = tag.dropFirst().dropLast() }
        return Int64(tag) ?? -1
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let bytes = Array(utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
