import FirewallService
import Logging
import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// `/rules`: ordered access rules, versioned with ETag / If-Match.
struct RuleHandlers: Sendable {
    let service: FirewallService
    let audit: AuditLog

    static func etag(_ version: Int64) -> (name: String, value: String) { (name: "ETag", value: "\"\(version)\"") }

    /// `GET /rules`: in evaluation order, the default rule last.
    func list(_ request: APIRequest) async throws -> APIResponse {
        let (page, version) = try await service.rules(page: try request.query.page())
        return JSONResponse.make(headers: [Self.etag(version)]) { $0.page(page) { $0.rule($1) } }
    }

    /// `GET /rules/{id}`.
    func get(_ request: APIRequest) async throws -> APIResponse {
        let (rule, version) = try await service.rule(request.parameter("id"))
        return JSONResponse.make(headers: [Self.etag(version)]) { $0.rule(rule) }
    }

    /// `POST /rules`.
    func create(_ request: APIRequest) async throws -> APIResponse {
        let spec = try Self.spec(from: request)
        let (rule, version) = try await service.createRule(spec, ifMatch: try request.ifMatchPolicyVersion(), by: request.auditContext)
        audit.record("rule.create", by: request, Self.auditDetails(rule, version))
        return JSONResponse.make(status: 201, headers: [(name: "Location", value: "/rules/\(rule.rule.id)"), Self.etag(version)]) {
            $0.rule(rule)
        }
    }

    /// `PUT /rules/{id}`: replaces the rule (and moves it when `position` is given).
    func replace(_ request: APIRequest) async throws -> APIResponse {
        let spec = try Self.spec(from: request)
        let (rule, version) = try await service.replaceRule(
            request.parameter("id"), spec, ifMatch: try request.ifMatchPolicyVersion(), by: request.auditContext)
        audit.record("rule.replace", by: request, Self.auditDetails(rule, version))
        return JSONResponse.make(headers: [Self.etag(version)]) { $0.rule(rule) }
    }

    /// `DELETE /rules/{id}`: 204 with the new ETag.
    func delete(_ request: APIRequest) async throws -> APIResponse {
        try request.requireNoBody()
        let version = try await service.deleteRule(request.parameter("id"), ifMatch: try request.ifMatchPolicyVersion(), by: request.auditContext)
        audit.record("rule.delete", by: request, ["rule.id": "\(request.parameter("id"))", "policy.version": "\(version)"])
        var headers = HTTPHeaders()
        headers.add(name: Self.etag(version).name, value: Self.etag(version).value)
        return APIResponse(status: 204, headers: headers)
    }

    /// `POST /rules/evaluate`: a dry run, like HostAccessCheck.
    func evaluate(_ request: APIRequest) async throws -> APIResponse {
        var body = try request.jsonBody()
        enum Subject: Sendable {
            case session(String)
            case user(SessionUser?, IPAddress)
        }
        let (subject, guid) = try decodingFields {
            let guid = try body.requiredGUID("protocolGuid")
            let subject: Subject
            if let sessionID = try body.optionalString("sessionId") {
                if body.object["user"] != nil || body.object["clientAddress"] != nil {
                    throw JSONFieldError(field: "sessionId", reason: "must not be given with 'user' or 'clientAddress'")
                }
                subject = .session(sessionID)
            } else {
                let address = try body.requiredIPAddress("clientAddress")
                var user: SessionUser?
                if var userBody = try body.optionalObject("user") {
                    user = SessionUser(name: try userBody.requiredText("name"), groups: try userBody.optionalTextArray("groups") ?? [])
                    try userBody.finish()
                }
                subject = .user(user, address)
            }
            try body.finish()
            return (subject, guid)
        }
        let (evaluation, version): (RuleEvaluator.Evaluation, Int64)
        switch subject {
        case .session(let id): (evaluation, version) = try await service.evaluate(sessionID: id, protocolGUID: guid)
        case .user(let user, let address):
            (evaluation, version) = try await service.evaluate(user: user, clientAddress: address, protocolGUID: guid)
        }
        return JSONResponse.make(headers: [Self.etag(version)]) { writer in
            writer.beginObject()
            writer.field("action", evaluation.action.rawValue)
            writer.field("ruleId", evaluation.ruleID)
            writer.field("ruleName", evaluation.ruleName)
            writer.field("policyVersion", version)
            writer.endObject()
        }
    }

    private static func auditDetails(_ rule: PositionedRule, _ version: Int64) -> [String: Logger.MetadataValue] {
        [
            "rule.id": "\(rule.rule.id)", "rule.name": "\(rule.rule.name)", "rule.action": "\(rule.rule.action.rawValue)",
            "rule.position": "\(rule.position)", "policy.version": "\(version)",
        ]
    }

    static func spec(from request: APIRequest) throws -> RuleSpec {
        var body = try request.jsonBody()
        let spec = try decodingFields {
            let name = try body.requiredText("name")
            let enabled = try body.optionalBool("enabled") ?? true
            let action = try body.requiredEnum("action", RuleAction.self)
            let protocols = try ruleProtocols(&body)
            guard let users = try body.optionalTextArray("users") else {
                throw JSONFieldError(field: "users", reason: "is required")
            }
            let sources = try body.optionalRanges("sourceAddresses").map { IPRangeSet(ranges: $0) }
            let position = try body.optionalInt("position", in: 1...Int64(Int32.max)).map { Int($0) }
            try body.finish()
            return RuleSpec(
                name: name, enabled: enabled, action: action, protocols: protocols, users: users,
                sourceAddresses: sources, position: position)
        }
        try spec.validate()
        return spec
    }

    /// `"any"`, `[guid, ...]` or `{"except": [guid, ...]}`.
    private static func ruleProtocols(_ body: inout JSONObjectReader) throws(JSONFieldError) -> RuleProtocols {
        switch body.value("protocols") {
        case nil:
            throw JSONFieldError(field: "protocols", reason: "is required")
        case .string("any")?:
            return .any
        case .array(let items)?:
            return .only(try guids(items, field: "protocols"))
        case .object(let object)?:
            var inner = try JSONObjectReader(.object(object), path: "protocols")
            guard let items = try inner.optionalArray("except") else {
                throw JSONFieldError(field: "protocols.except", reason: "is required")
            }
            try inner.finish()
            return .allExcept(try guids(items, field: "protocols.except"))
        default:
            throw JSONFieldError(field: "protocols", reason: "must be \"any\", an array of GUIDs or {\"except\": [GUIDs]}")
        }
    }

    private static func guids(_ items: [JSONValue], field: String) throws(JSONFieldError) -> [ProtocolGUID] {
        var result: [ProtocolGUID] = []
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item, let guid = ProtocolGUID(text) else {
                throw JSONFieldError(field: "\(field)[\(index)]", reason: "must be a GUID")
            }
            if !result.contains(guid) { result.append(guid) }
        }
        return result
    }
}
