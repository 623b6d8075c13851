import FirewallService
import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// `/sessions`: firewall client sessions (IFWXSession).
struct SessionHandlers: Sendable {
    let service: FirewallService

    /// `POST /sessions`.
    func create(_ request: APIRequest) async throws -> APIResponse {
        var body = try request.jsonBody()
        let newSession = try decodingFields {
            let id = try body.optionalString("id")
            let clientAddress = try body.requiredIPAddress("clientAddress")
            let clientType = try body.optionalEnum("clientType", ClientType.self) ?? .firewallClient
            let machineName = try body.optionalText("clientMachineName", maxLength: 255)
            var user: SessionUser?
            if var userBody = try body.optionalObject("user") {
                let name = try userBody.requiredText("name")
                let groups = try userBody.optionalTextArray("groups") ?? []
                try userBody.finish()
                user = SessionUser(name: name, groups: groups)
            }
            try body.finish()
            return NewSession(
                id: id, clientAddress: clientAddress, clientType: clientType, clientMachineName: machineName, user: user)
        }
        try newSession.validate()
        let session = try await service.createSession(newSession, by: request.auditContext)
        return JSONResponse.created(at: "/sessions/\(session.id)") { $0.session(session) }
    }

    /// `GET /sessions`.
    func list(_ request: APIRequest) async throws -> APIResponse {
        var filter = SessionFilter()
        if let state = request.query["state"] {
            filter.state = try decodingFields {
                try JSONObjectReader.enumValue(state, SessionState.self, field: "state")
            }
        }
        filter.user = request.query["user"]
        if let range = request.query["clientAddress"] {
            guard case .success(let parsed) = IPRange.parse(range) else {
                throw APIError.invalid("clientAddress", "must be an address, a CIDR block or a range")
            }
            filter.clientAddress = parsed
        }
        let page = try await service.listSessions(filter, page: try request.query.page())
        return JSONResponse.make { $0.page(page) { $0.session($1) } }
    }

    /// `GET /sessions/{id}`.
    func get(_ request: APIRequest) async throws -> APIResponse {
        let session = try await service.session(request.parameter("id"))
        return JSONResponse.make { $0.session(session) }
    }

    /// `DELETE /sessions/{id}`: the session and its binds become terminating.
    func delete(_ request: APIRequest) async throws -> APIResponse {
        try request.requireNoBody()
        let session = try await service.terminateSession(request.parameter("id"), by: request.auditContext)
        return JSONResponse.make { $0.session(session) }
    }
}
