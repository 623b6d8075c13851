import FirewallService
import FirewallSessions
import Logging
import MicroHTTPServer
import StrictJSON

/// `/protocols`: protocol definitions, the built-ins included.
struct ProtocolHandlers: Sendable {
    let service: FirewallService
    let audit: AuditLog

    /// `GET /protocols`.
    func list(_ request: APIRequest) async throws -> APIResponse {
        let (page, version) = try await service.protocols(page: try request.query.page())
        return JSONResponse.make(headers: [RuleHandlers.etag(version)]) { $0.page(page) { $0.protocolDefinition($1) } }
    }

    /// `GET /protocols/{guid}`.
    func get(_ request: APIRequest) async throws -> APIResponse {
        let (definition, version) = try await service.protocolDefinition(try Self.guid(request))
        return JSONResponse.make(headers: [RuleHandlers.etag(version)]) { $0.protocolDefinition(definition) }
    }

    /// `POST /protocols`: the GUID is optional (a random one is chosen).
    func create(_ request: APIRequest) async throws -> APIResponse {
        let definition = try Self.definition(from: request, pathGUID: nil)
        let (created, version) = try await service.createProtocol(definition, ifMatch: try request.ifMatchPolicyVersion(), by: request.auditContext)
        audit.record("protocol.create", by: request, [
            "protocol.guid": "\(created.guid)", "protocol.name": "\(created.name)", "policy.version": "\(version)",
        ])
        return JSONResponse.make(
            status: 201, headers: [(name: "Location", value: "/protocols/\(created.guid)"), RuleHandlers.etag(version)]
        ) { $0.protocolDefinition(created) }
    }

    /// `PUT /protocols/{guid}`.
    func replace(_ request: APIRequest) async throws -> APIResponse {
        let definition = try Self.definition(from: request, pathGUID: try Self.guid(request))
        let (replaced, version) = try await service.replaceProtocol(definition, ifMatch: try request.ifMatchPolicyVersion(), by: request.auditContext)
        audit.record("protocol.replace", by: request, [
            "protocol.guid": "\(replaced.guid)", "protocol.name": "\(replaced.name)", "policy.version": "\(version)",
        ])
        return JSONResponse.make(headers: [RuleHandlers.etag(version)]) { $0.protocolDefinition(replaced) }
    }

    /// `DELETE /protocols/{guid}`.
    func delete(_ request: APIRequest) async throws -> APIResponse {
        try request.requireNoBody()
        let guid = try Self.guid(request)
        let version = try await service.deleteProtocol(guid, ifMatch: try request.ifMatchPolicyVersion(), by: request.auditContext)
        audit.record("protocol.delete", by: request, ["protocol.guid": "\(guid)", "policy.version": "\(version)"])
        var headers = HTTPHeaders()
        headers.add(name: "ETag", value: "\"\(version)\"")
        return APIResponse(status: 204, headers: headers)
    }

    private static func guid(_ request: APIRequest) throws(FirewallError) -> ProtocolGUID {
        guard let guid = ProtocolGUID(request.parameter("guid")) else {
            throw .notFound("protocol definition", request.parameter("guid"))
        }
        return guid
    }

    private static func definition(from request: APIRequest, pathGUID: ProtocolGUID?) throws -> ProtocolDefinition {
        var body = try request.jsonBody()
        let definition = try decodingFields {
            var guid = pathGUID ?? ProtocolGUID.random()
            if body.object["guid"] != nil {
                let given = try body.requiredGUID("guid")
                if let pathGUID, given != pathGUID {
                    throw JSONFieldError(field: "guid", reason: "must match the GUID in the path")
                }
                guid = given
            }
            let name = try body.requiredText("name", maxLength: 128)
            guard let items = try body.optionalObjectArray("primaryConnections") else {
                throw JSONFieldError(field: "primaryConnections", reason: "is required")
            }
            var connections: [PrimaryConnection] = []
            for var item in items {
                let transport = try item.requiredEnum("protocol", TransportProtocol.self)
                let portsText = try item.requiredString("ports")
                guard let ports = PrimaryConnection.parsePorts(portsText) else {
                    throw JSONFieldError(field: item.path(of: "ports"), reason: "must be a port or a range like 1024-65535, within 1...65535")
                }
                let direction = try item.requiredEnum("direction", ConnectionDirection.self)
                try item.finish()
                connections.append(PrimaryConnection(transport: transport, ports: ports, direction: direction))
            }
            try body.finish()
            return ProtocolDefinition(guid: guid, name: name, primaryConnections: connections)
        }
        try definition.validate()
        return definition
    }
}
