import FirewallService
import FirewallSessions
import Logging
import MicroHTTPServer
import StrictJSON
import Testing

@testable import FirewallAPI

/// Handlers only decode; the domain validates, and its errors reach the wire unchanged: each
/// answer here names the field the domain named, with the domain's reason.
@Suite("Validation through the handlers")
struct HandlerValidationTests {
    static func responder(_ settings: FirewallSettings = FirewallSettings()) -> APIResponder {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let service = FirewallService(settings: settings, logger: logger)
        let routes = FirewallRoutes.make(
            service: service, settings: settings, metrics: FirewallMetrics(), events: EventHub(settings: EventStreamSettings()),
            audit: AuditLog(logger: logger))
        return APIResponder(routes: routes, logger: logger)
    }

    static func post(_ responder: APIResponder, _ path: String, _ body: String) async -> HTTPResponse {
        await responder.respond(to: HTTPRequest(
            method: "POST", path: path, headers: HTTPHeaders([(name: "Content-Type", value: "application/json")]),
            body: Array(body.utf8)))
    }

    /// The problem's detail and its one field error.
    static func invalid(_ response: HTTPResponse) throws -> (detail: String, field: String, reason: String)? {
        guard response.status == 400, case .object(let problem) = try JSONParser.parse(response.body),
            case .string(let detail)? = problem["detail"], case .array(let errors)? = problem["errors"], errors.count == 1,
            case .object(let error) = errors[0], case .string(let field)? = error["field"], case .string(let reason)? = error["reason"]
        else { return nil }
        return (detail, field, reason)
    }

    @Test("RetroactiveAllowBind's check 1: the flags as the domain checks them, by their place", arguments: [
        (#""flags": ["increase-receive-buffer", "bidirectional"]"#, "flags[1]", "is only valid for protocol udp"),
        (#""flags": ["increase-receive-buffer", "increase-receive-buffer"]"#, "flags[1]", "is given twice"),
        (#""ipFilter": {"include": ["10.0.0.1", "10.0.0.3"]}"#, "ipFilter.include", "would make the filter hold more than 1 ranges"),
    ])
    func retroactiveAllowBind(member: String, field: String, reason: String) async throws {
        var settings = FirewallSettings()
        settings.maxRangesPerFilter = 1
        let responder = Self.responder(settings)
        let body = #"{"protocol": "tcp", "address": "203.0.113.10:40000", "protocolGuid": "477d0251-8a01-4895-9727-ba1370e17366", "#
            + member + "}"
        let answer = try Self.invalid(await Self.post(responder, "/sessions/s-1/retroactive-binds", body))
        #expect(answer?.field == field)
        #expect(answer?.reason == reason)
        #expect(answer?.detail == "\(field) \(reason)")
    }

    @Test("a batch names the item the domain refused")
    func batchItem() async throws {
        let inbound = #"{"protocol": "tcp", "direction": "inbound", "source": "198.51.100.7:20", "destination": "203.0.113.10:1"}"#
        let outbound = #"{"protocol": "tcp", "direction": "outbound", "source": "203.0.113.10:1", "destination": "198.51.100.7:20"}"#
        let answer = try Self.invalid(
            await Self.post(Self.responder(), "/decisions/batch", #"{"decisions": ["# + inbound + "," + outbound + "]}"))
        #expect(answer?.field == "decisions[1].direction")
        #expect(answer?.detail == "decisions[1].direction may be outbound only for protocol udp")
        let single = try Self.invalid(await Self.post(Self.responder(), "/decisions", outbound))
        #expect(single?.field == "direction")
    }

    @Test("requests the domain refuses before anything is looked up", arguments: [
        ("/sessions", #"{"id": "a b", "clientAddress": "10.0.0.1"}"#, "id", "must match [A-Za-z0-9._-]{1,64}"),
        ("/rules", #"{"name": "r", "action": "allow", "protocols": "any", "users": []}"#, "users",
         "must name at least one user or group, or 'All Users'"),
        ("/protocols", #"{"name": "p", "primaryConnections": []}"#, "primaryConnections", "must have 1 to 64 items"),
        ("/ip-filters", #"{"include": ["10.0.0.1", "10.0.0.3"]}"#, "include", "must have at most 1 ranges"),
    ])
    func domainValidation(path: String, body: String, field: String, reason: String) async throws {
        var settings = FirewallSettings()
        settings.maxRangesPerFilter = 1
        let answer = try Self.invalid(await Self.post(Self.responder(settings), path, body))
        #expect(answer?.field == field)
        #expect(answer?.reason == reason)
    }

    @Test("details read as sentences: the field, then what is wrong with it", arguments: [
        ("POST", "/sessions", "", "body is required: send a JSON object with Content-Type: application/json"),
        ("DELETE", "/sessions/s-1", "[]", "body must be empty or {}, as this operation takes no request body"),
        ("POST", "/sessions", #"{"clientAddress": "10.0.0.1", "clientAdress": "10.0.0.2"}"#, "clientAdress is not a known field"),
        ("POST", "/sessions/s-1/binds", #"{"protocol": "tcp", "address": "203.0.113.10:0"}"#,
         "address is not valid: port 0 is not allowed"),
        ("GET", "/sessions?limt=1", "", "limt is not a query parameter of this operation"),
        ("POST", "/sessions/s-1/retroactive-binds",
         #"{"protocol": "udp", "address": "203.0.113.10:1", "protocolGuid": "477d0251-8a01-4895-9727-ba1370e17366", "flags": ["loud"]}"#,
         "flags[0] is not a known flag (the flags are 'bidirectional' and 'increase-receive-buffer')"),
    ])
    func sentences(method: String, target: String, body: String, detail: String) async throws {
        let parts = target.split(separator: "?", maxSplits: 1).map(String.init)
        let response = await Self.responder().respond(to: HTTPRequest(
            method: method, path: parts[0], query: parts.count > 1 ? parts[1] : nil,
            headers: HTTPHeaders([(name: "Content-Type", value: "application/json")]), body: Array(body.utf8)))
        #expect(try Self.invalid(response)?.detail == detail)
    }

    @Test("an operation without a body takes none, or {} whatever its media type", arguments: [
        ("", nil), ("{}", "application/json"), (" {\n} ", "application/x-www-form-urlencoded"), ("{}", nil),
    ] as [(String, String?)])
    func bodilessTakesEmptyObject(body: String, contentType: String?) async throws {
        let responder = Self.responder()
        let filter = await Self.post(responder, "/ip-filters", #"{"include": ["10.0.0.0/8"]}"#)
        #expect(filter.status == 201)
        guard case .object(let created) = try JSONParser.parse(filter.body), case .string(let id)? = created["id"] else {
            Issue.record("no filter id")
            return
        }
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        let clone = await responder.respond(to: HTTPRequest(
            method: "POST", path: "/ip-filters/\(id)/clone", headers: headers, body: Array(body.utf8)))
        #expect(clone.status == 201)
        let refused = await responder.respond(to: HTTPRequest(
            method: "POST", path: "/ip-filters/\(id)/clone", headers: headers, body: Array(#"{"a": 1}"#.utf8)))
        #expect(refused.status == 400)
    }
}
