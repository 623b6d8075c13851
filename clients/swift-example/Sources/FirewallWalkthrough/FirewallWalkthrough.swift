import Foundation
import HTTPTypes
import OpenAPIRuntime
import OpenAPIURLSession

/// The README's walk-through (active-mode FTP through the gateway), then a conflict with its holder,
/// a stale `If-Match` and a lifted IP filter, through the client that swift-openapi-generator makes
/// of openapi.yaml. Every answer is read as the generated type its status declares.
///
/// Usage: `FirewallWalkthrough BASE_URL` (for example `http://127.0.0.1:8080`); with
/// `FWSESSIOND_TOKEN` set, every request carries it as a bearer token. Prints `ok <step>` per step;
/// exits 1 with the reason at the first answer that is not what the walk-through expects.
@main
struct FirewallWalkthrough {
    static let ftp = "477d0251-8a01-4895-9727-ba1370e17366"

    static func main() async {
        guard CommandLine.arguments.count == 2, let serverURL = URL(string: CommandLine.arguments[1]) else {
            print("usage: FirewallWalkthrough BASE_URL")
            exit(2)
        }
        let token = ProcessInfo.processInfo.environment["FWSESSIOND_TOKEN"]
        let client = Client(
            serverURL: serverURL,
            // The server writes timestamps with milliseconds (`2025-01-31T12:00:00.000Z`).
            configuration: Configuration(dateTranscoder: .iso8601WithFractionalSeconds),
            transport: URLSessionTransport(),
            middlewares: token.map { [BearerToken(token: $0)] } ?? []
        )
        do {
            try await walkThrough(client)
        } catch {
            print("FAILED: \(error)")
            exit(1)
        }
    }

    static func walkThrough(_ client: Client) async throws {
        // A firewall client session for alice.
        let created = try await client.createSession(body: .json(.init(
            id: "ws17-1", clientAddress: "10.1.2.3", clientMachineName: "WS-17",
            user: .init(name: "CONTOSO\\alice", groups: ["CONTOSO\\FTP Users"])))).created
        let session = try created.body.json
        try expect(created.headers.location == "/sessions/ws17-1", "Location \(created.headers.location)")
        try expect(session.state == .active && session.clientType == .firewallClient, "session \(session)")
        try expect(session.user?.name == "CONTOSO\\alice" && session.user?.groups == ["CONTOSO\\FTP Users"], "user \(session)")
        try expect(abs(session.createdAt.timeIntervalSinceNow) < 600 && session.terminatingAt == nil, "times \(session)")
        step("session")

        // The rules as they are (the default rule denies everything), then FTP for FTP Users,
        // conditional on that policy version (`If-Match`, which the runtime sends percent-encoded).
        let rules = try await client.listRules().ok
        let defaultRule = try rules.body.json.items.last
        try expect(defaultRule?.isDefault == true && defaultRule?.protocols == .RuleProtocolsAny(.any), "default \(String(describing: defaultRule))")
        let rule = try await client.createRule(
            headers: .init(ifMatch: rules.headers.eTag),
            body: .json(.init(name: "FTP for FTP Users", action: .allow, protocols: .RuleProtocolsInputListed([ftp]),
                              users: ["CONTOSO\\FTP Users"]))).created.body.json
        try expect(rule.position == 1 && rule.protocols == .RuleProtocolsListed([ftp]) && rule.sourceAddresses == nil, "rule \(rule)")
        step("rule")

        // Alice's FTP client sends PORT; the gateway binds 203.0.113.10:40000 for her: pending.
        let bind = try await client.createBind(
            path: .init(id: session.id), body: .json(.init(_protocol: .tcp, address: "203.0.113.10:40000"))).created.body.json
        try expect(bind.state == .pending && bind.protocolGuid == nil && bind.ipFilter == nil && bind.ipFilterId == nil
                   && bind.receiveBufferBytes == nil && bind.flags.isEmpty && bind.allowedAt == nil, "bind \(bind)")
        step("pending bind")

        // The FTP server's SYN to the data port is discarded, and the decision says why.
        try await expectDecision(client, from: "198.51.100.7:20", .discard, .bindPending, bindID: bind.id)
        step("discarded decision")

        // RetroactiveAllowBind, only for the FTP server's address.
        let allowed = try await client.retroactiveAllowBind(
            path: .init(id: session.id),
            body: .json(.init(_protocol: .tcp, address: "203.0.113.10:40000", protocolGuid: ftp,
                              ipFilter: .init(include: ["198.51.100.7"])))).ok.body.json
        let granted = allowed.binds.first
        try expect(allowed.hresult == .sOk && allowed.code == ._0x00000000 && allowed.binds.count == 1, "S_OK \(allowed)")
        try expect(granted?.state == .allowed && granted?.protocolGuid == ftp && granted?.ipFilter?.ranges == ["198.51.100.7"]
                   && granted?.allowedAt != nil, "allowed bind \(allowed)")
        step("S_OK")

        try await expectDecision(client, from: "198.51.100.7:20", .accept, .allowed, bindID: bind.id)
        step("accepted decision")
        try await expectDecision(client, from: "192.0.2.66:20", .discard, .ipFilter, bindID: bind.id)
        step("filtered decision")

        // Again: nothing changes, and the answer says so.
        let again = try await client.retroactiveAllowBind(
            path: .init(id: session.id),
            body: .json(.init(_protocol: .tcp, address: "203.0.113.10:40000", protocolGuid: ftp))).ok.body.json
        try expect(again.hresult == .sFalse && again.code == ._0x00000001, "S_FALSE \(again)")
        step("S_FALSE")

        // Bad input: a problem naming the field (bidirectional is a UDP flag).
        let bad = try await client.retroactiveAllowBind(
            path: .init(id: session.id),
            body: .json(.init(_protocol: .tcp, address: "203.0.113.10:40000", protocolGuid: ftp, flags: [.bidirectional])))
        guard case .badRequest(let badRequest) = bad else { throw Failure("expected 400, got \(bad)") }
        let invalid = try badRequest.body.applicationProblemJson
        try expect(invalid.status == ._400 && invalid.hresult == .eInvalidarg && invalid.code == "0x80070057"
                   && invalid.errors?.first?.field == "flags[0]" && invalid.errors?.first?.reason == "is only valid for protocol udp",
                   "400 \(invalid)")
        step("400 problem with its field")

        // Another session binding the same address: 409 naming the holder.
        _ = try await client.createSession(body: .json(.init(id: "ws22-4", clientAddress: "10.1.2.4"))).created
        let taken = try await client.createBind(
            path: .init(id: "ws22-4"), body: .json(.init(_protocol: .tcp, address: "203.0.113.10:40000")))
        guard case .conflict(let conflict) = taken else { throw Failure("expected 409, got \(taken)") }
        let inUse = try conflict.body.applicationProblemJson
        try expect(inUse.status == ._409 && inUse.hresult == .hresultFromWin32_lpar_wsaeaddrinuse_rpar_
                   && inUse.conflict?.sessionId == session.id && inUse.conflict?.bindId == bind.id, "409 \(inUse)")
        step("409 with holder")

        // A change based on a policy version that is not the current one: 412; on the current one, or
        // unconditional (`*`): applied.
        let fetched = try await client.getRule(path: .init(id: rule.id)).ok
        let replacement = Components.Schemas.RuleInput(
            name: "FTP for FTP Users", action: .allow, protocols: .RuleProtocolsInputListed([ftp]), users: ["CONTOSO\\FTP Users"])
        let stale = try await client.replaceRule(
            path: .init(id: rule.id), headers: .init(ifMatch: "\"999999\""), body: .json(replacement))
        guard case .preconditionFailed(let failed) = stale else { throw Failure("expected 412, got \(stale)") }
        let mismatch = try failed.body.applicationProblemJson
        try expect(mismatch.status == ._412 && mismatch.hresult == .hresultFromWin32_lpar_errorRevisionMismatch_rpar_, "412 \(mismatch)")
        let current = try await client.replaceRule(
            path: .init(id: rule.id), headers: .init(ifMatch: fetched.headers.eTag), body: .json(replacement)).ok
        try expect(current.headers.eTag != fetched.headers.eTag, "the policy version did not move: \(current.headers.eTag)")
        _ = try await client.replaceRule(path: .init(id: rule.id), headers: .init(ifMatch: "*"), body: .json(replacement)).ok
        step("412 with If-Match")

        // SetIpFilter with no filter: the bind accepts every peer again.
        let lifted = try await client.liftBindIpFilter(path: .init(id: session.id, bindId: bind.id)).ok.body.json
        try expect(lifted.state == .allowed && lifted.ipFilter == nil && lifted.ipFilterId == nil, "lifted \(lifted)")
        try await expectDecision(client, from: "192.0.2.66:20", .accept, .allowed, bindID: bind.id)
        step("lifted filter")
    }

    /// An inbound TCP decision to 203.0.113.10:40000 from `source`.
    static func expectDecision(
        _ client: Client, from source: String, _ verdict: Components.Schemas.Verdict,
        _ reason: Components.Schemas.DecisionReason, bindID: String
    ) async throws {
        let decision = try await client.decide(body: .json(.init(
            _protocol: .tcp, direction: .inbound, source: source, destination: "203.0.113.10:40000"))).ok.body.json
        try expect(decision.verdict == verdict && decision.reason == reason && decision.sessionId == "ws17-1"
                   && decision.bindId == bindID, "decision from \(source): \(decision)")
    }

    static func step(_ name: String) {
        print("ok \(name)")
    }

    static func expect(_ condition: Bool, _ what: @autoclosure () -> String) throws {
        guard condition else { throw Failure("unexpected " + what()) }
    }
}

/// A walk-through step that did not go as the README says.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Sends `Authorization: Bearer <token>`: generated clients leave security schemes to a middleware.
struct BearerToken: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}
