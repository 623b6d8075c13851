import FirewallService
import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// `/sessions/{id}/binds`: the client's binds on the external address, and SetIpFilter.
struct BindHandlers: Sendable {
    let service: FirewallService
    let maxRangesPerFilter: Int

    /// `POST /sessions/{id}/binds`: records a pending bind.
    func create(_ request: APIRequest) async throws -> APIResponse {
        var body = try request.jsonBody()
        let (transport, address) = try decodingFields { () throws(JSONFieldError) in
            let transport = try body.requiredEnum("protocol", TransportProtocol.self)
            let address = try body.requiredSocketAddress("address")
            try body.finish()
            return (transport, address)
        }
        let sessionID = request.parameter("id")
        let bind = try await service.createBind(sessionID: sessionID, transport: transport, address: address)
        return JSONResponse.created(at: "/sessions/\(sessionID)/binds/\(bind.id)") { $0.bind(bind) }
    }

    /// `GET /sessions/{id}/binds`.
    func list(_ request: APIRequest) async throws -> APIResponse {
        var state: BindState?
        if let text = request.query["state"] {
            state = try decodingFields { () throws(JSONFieldError) in
                try JSONObjectReader.enumValue(text, BindState.self, field: "state")
            }
        }
        let page = try await service.listBinds(sessionID: request.parameter("id"), state: state, page: try request.query.page())
        return JSONResponse.make { $0.page(page) { $0.bind($1) } }
    }

    /// `GET /sessions/{id}/binds/{bindId}`.
    func get(_ request: APIRequest) async throws -> APIResponse {
        let bindID = try request.bindID()
        let bind = try await service.bind(sessionID: request.parameter("id"), bindID: bindID)
        return JSONResponse.make { $0.bind(bind) }
    }

    /// `DELETE /sessions/{id}/binds/{bindId}`: the bind becomes terminating.
    func delete(_ request: APIRequest) async throws -> APIResponse {
        try request.requireNoBody()
        let bindID = try request.bindID()
        let bind = try await service.closeBind(sessionID: request.parameter("id"), bindID: bindID)
        return JSONResponse.make { $0.bind(bind) }
    }

    /// `PUT /sessions/{id}/binds/{bindId}/ip-filter`: IFWXConnection::SetIpFilter.
    func setIPFilter(_ request: APIRequest) async throws -> APIResponse {
        let bindID = try request.bindID()
        var body = try request.jsonBody()
        let maxRanges = maxRangesPerFilter
        let filter = try decodingFields { () throws(JSONFieldError) in
            guard body.object.count == 1 else {
                throw JSONFieldError(field: "", reason: "must have exactly one of 'ipFilter' (an object or null) and 'ipFilterId'")
            }
            let filter = try IPFilterDecoding.bindFilter(&body, maxRanges: maxRanges)
            try body.finish()
            return filter
        }
        let bind = try await service.setIPFilter(sessionID: request.parameter("id"), bindID: bindID, filter: filter)
        return JSONResponse.make { $0.bind(bind) }
    }
}

/// Decodes the `ipFilter` / `ipFilterId` pair that RetroactiveAllowBind and SetIpFilter share.
enum IPFilterDecoding {
    /// At most one of `ipFilter` (an inline `{"include", "exclude"}` snapshot) and `ipFilterId`.
    static func bindFilter(_ body: inout JSONObjectReader, maxRanges: Int) throws(JSONFieldError)
        -> BindIPFilter?
    {
        let inlineValue = body.value("ipFilter")
        let storedID = try body.optionalString("ipFilterId")
        if let inlineValue, inlineValue != .null, storedID != nil {
            throw JSONFieldError(field: "ipFilterId", reason: "give at most one of 'ipFilter' and 'ipFilterId'")
        }
        if let storedID {
            guard !storedID.isEmpty else { throw JSONFieldError(field: "ipFilterId", reason: "must not be empty") }
            return .stored(id: storedID)
        }
        guard let inlineValue, inlineValue != .null else { return nil }
        var filter = try JSONObjectReader(inlineValue, path: "ipFilter")
        let ranges = try rangeSet(&filter, maxRanges: maxRanges)
        try filter.finish()
        return .inline(ranges)
    }

    /// `{"include": [...], "exclude": [...]}` applied to the empty set: includes, then excludes.
    static func rangeSet(_ body: inout JSONObjectReader, maxRanges: Int) throws(JSONFieldError)
        -> IPRangeSet
    {
        guard let include = try body.optionalRanges("include") else {
            throw JSONFieldError(field: body.path(of: "include"), reason: "is required")
        }
        let exclude = try body.optionalRanges("exclude") ?? []
        do {
            return try FirewallState.buildRanges(include: include, exclude: exclude, limit: maxRanges)
        } catch {
            throw JSONFieldError(field: body.path(of: "include"), reason: error.fieldErrors.first?.reason ?? error.detail)
        }
    }
}
