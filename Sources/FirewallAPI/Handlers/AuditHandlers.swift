import FirewallService
import FirewallSessions
import StrictJSON

/// `GET /audit`: the durable audit trail, oldest first, a page at a time.
struct AuditHandlers: Sendable {
    let service: FirewallService

    /// The query parameters besides paging.
    static let filters: Set<String> = ["since", "until", "action", "token", "session", "bind", "hresult"]

    /// `GET /audit`.
    func list(_ request: APIRequest) async throws -> APIResponse {
        var query = AuditQuery(page: try request.query.page())
        query.since = try Self.time(request, "since")
        query.until = try Self.time(request, "until")
        query.action = try Self.text(request, "action")
        query.token = try Self.text(request, "token")
        query.sessionID = try Self.text(request, "session")
        if let bind = request.query["bind"] {
            guard let id = BindID(bind) else { throw APIError.invalid("bind", "must be a bind id (b-<number>)") }
            query.bindID = id
        }
        if let hresult = request.query["hresult"] {
            guard HResult.table.contains(where: { $0.name == hresult }) else {
                throw APIError.invalid("hresult", "must be an HRESULT name such as S_OK")
            }
            query.hresult = hresult
        }
        let page = try await service.auditRecords(query)
        return JSONResponse.make { $0.page(page) { $0.auditRecord($1) } }
    }

    private static func time(_ request: APIRequest, _ name: String) throws(APIError) -> Timestamp? {
        guard let text = request.query[name] else { return nil }
        guard let time = Timestamp(rfc3339: text) else {
            throw .invalid(name, "must be an RFC 3339 date-time such as 2026-12-03T19:00:00Z")
        }
        return time
    }

    private static func text(_ request: APIRequest, _ name: String) throws(APIError) -> String? {
        guard let text = request.query[name] else { return nil }
        guard !text.isEmpty, text.utf8.count <= 255 else { throw .invalid(name, "must be 1 to 255 bytes") }
        return text
    }
}

extension JSONWriter {
    mutating func auditRecord(_ record: AuditRecord) {
        beginObject()
        field("id", PageRequest.cursor(record.id))
        field("time", record.time.rfc3339)
        field("action", record.action)
        field("token", record.token)
        field("requestId", record.requestID)
        field("sessionId", record.sessionID)
        field("bindId", record.bindID?.description)
        field("hresult", record.hresult)
        field("node", record.node)
        key("details")
        beginObject()
        for detail in record.details {
            switch detail.value {
            case .string(let text): field(detail.key, text)
            case .integer(let number): field(detail.key, number)
            case .strings(let list): field(detail.key, strings: list)
            }
        }
        endObject()
        endObject()
    }
}
