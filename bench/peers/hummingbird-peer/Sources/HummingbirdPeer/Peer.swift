import FirewallSessions
import Foundation
import Hummingbird

/// `HummingbirdPeer [--port N]`: serves `POST /sessions/:id/retroactive-binds` on 127.0.0.1 with
/// the state fwsessiond's steady-state scenario has (session `bench-1`, an allow rule for FTP and
/// All Users, the bind tcp 203.0.113.10:40000 already allowed), so every call answers S_FALSE.
@main
struct HummingbirdPeer {
    static func main() async throws {
        var port = 8081
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            guard argument == "--port", let value = arguments.popFirst().flatMap(Int.init) else {
                FileHandle.standardError.write(Data("usage: HummingbirdPeer [--port N]\n".utf8))
                exit(2)
            }
            port = value
        }
        let requestedPort = port
        let store = FirewallStore(state: try BenchSeed.steadyState())
        let router = Router()
        router.post("/sessions/:id/retroactive-binds") { request, context -> Response in
            let sessionID = try context.parameters.require("id")
            let body = try await request.decode(as: RetroactiveAllowBindBody.self, context: context)
            let result: RetroactiveAllowBindResult
            do throws(FirewallError) {
                result = try await store.retroactiveAllowBind(sessionID: sessionID, try body.domainRequest())
            } catch {
                var response = try context.responseEncoder.encode(
                    ProblemJSON(error, instance: request.uri.path), from: request, context: context)
                response.status = .init(code: error.hresult.status)
                response.headers[.contentType] = "application/problem+json"
                return response
            }
            return try context.responseEncoder.encode(RetroactiveAllowBindJSON(result), from: request, context: context)
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: requestedPort), serverName: "hummingbird-peer"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? requestedPort
                FileHandle.standardError.write(Data("hummingbird-peer listening on http://127.0.0.1:\(port)\n".utf8))
            })
        try await app.runService()
    }
}

/// The store: one actor owning the domain state, as an idiomatic Swift server would hold it.
actor FirewallStore {
    private var state: FirewallState

    init(state: FirewallState) { self.state = state }

    func retroactiveAllowBind(sessionID: String, _ request: RetroactiveAllowBindRequest) throws(FirewallError)
        -> RetroactiveAllowBindResult
    {
        var changes = ChangeSet()
        return try state.retroactiveAllowBind(sessionID: sessionID, request, now: .now(), changes: &changes)
    }
}

/// The state of fwsessiond's steady-state scenario, made with the same domain calls its API makes.
enum BenchSeed {
    static let ftp = ProtocolGUID("477d0251-8a01-4895-9727-ba1370e17366")!

    static func steadyState() throws(FirewallError) -> FirewallState {
        var state = FirewallState()
        var changes = ChangeSet()
        let now = Timestamp.now()
        _ = try state.createSession(NewSession(id: "bench-1", clientAddress: IPAddress("10.1.2.3")!), now: now, changes: &changes)
        _ = try state.createRule(
            RuleSpec(name: "bench: FTP for All Users", action: .allow, protocols: .only([ftp]), users: ["All Users"]),
            now: now, changes: &changes)
        let address = SocketAddress("203.0.113.10:40000")!
        _ = try state.createBind(sessionID: "bench-1", transport: .tcp, address: address, now: now, changes: &changes)
        _ = try state.retroactiveAllowBind(
            sessionID: "bench-1", RetroactiveAllowBindRequest(transport: .tcp, address: address, protocolGUID: ftp),
            now: now, changes: &changes)
        return state
    }
}

/// The request body (inline `ipFilter` and `ipFilterId` are left out: the scenario sends neither).
struct RetroactiveAllowBindBody: Decodable {
    var `protocol`: String
    var address: String
    var protocolGuid: String
    var flags: [String]?

    func domainRequest() throws(FirewallError) -> RetroactiveAllowBindRequest {
        guard let transport = TransportProtocol(rawValue: self.protocol) else {
            throw .invalid("protocol", "must be tcp or udp")
        }
        guard let socketAddress = SocketAddress(address) else { throw .invalid("address", "is not an address") }
        guard let guid = ProtocolGUID(protocolGuid) else { throw .invalid("protocolGuid", "is not a GUID") }
        var bindFlags: [BindFlags] = []
        for (index, name) in (flags ?? []).enumerated() {
            guard let flag = BindFlags.named(name) else { throw .invalid("flags[\(index)]", "is not a known flag") }
            bindFlags.append(flag)
        }
        return try RetroactiveAllowBindRequest(
            transport: transport, address: socketAddress, protocolGUID: guid, flags: bindFlags)
    }
}

/// `{"hresult", "code", "binds": [...]}`, the shape fwsessiond answers.
struct RetroactiveAllowBindJSON: ResponseEncodable {
    var hresult: String
    var code: String
    var binds: [BindJSON]

    init(_ result: RetroactiveAllowBindResult) {
        hresult = result.hresult.name
        code = result.hresult.code
        binds = result.binds.map(BindJSON.init)
    }
}

/// A bind as fwsessiond renders it; absent values are `null`, as there.
struct BindJSON: Encodable {
    struct Counters: Encodable {
        var accepted: UInt64
        var discarded: UInt64
    }

    struct InlineFilter: Encodable {
        var ranges: [String]
    }

    var id: String
    var sessionId: String
    var `protocol`: String
    var address: String
    var state: String
    var protocolGuid: String?
    var flags: [String]
    var ipFilter: InlineFilter?
    var ipFilterId: String?
    var receiveBufferBytes: Int?
    var createdAt: String
    var allowedAt: String?
    var terminatingAt: String?
    var counters: Counters

    init(_ bind: Bind) {
        id = bind.id.description
        sessionId = bind.sessionID
        self.protocol = bind.transport.rawValue
        address = bind.address.description
        state = bind.state.rawValue
        protocolGuid = bind.grant?.protocolGUID.description
        flags = bind.grant?.flags.names ?? []
        switch bind.grant?.ipFilter {
        case .inline(let ranges)?: ipFilter = InlineFilter(ranges: ranges.ranges.map(\.description))
        case .stored(let id)?: ipFilterId = id
        case nil: break
        }
        receiveBufferBytes = bind.receiveBufferBytes
        createdAt = bind.createdAt.rfc3339
        allowedAt = bind.grant?.allowedAt.rfc3339
        terminatingAt = bind.terminatingAt?.rfc3339
        counters = Counters(accepted: bind.acceptedCount, discarded: bind.discardedCount)
    }

    enum CodingKeys: String, CodingKey {
        case id, sessionId, `protocol`, address, state, protocolGuid, flags, ipFilter, ipFilterId, receiveBufferBytes
        case createdAt, allowedAt, terminatingAt, counters
    }

    /// Writes every key, `null` included (the synthesized coder would leave nil keys out).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(sessionId, forKey: .sessionId)
        try container.encode(self.protocol, forKey: .protocol)
        try container.encode(address, forKey: .address)
        try container.encode(state, forKey: .state)
        try container.encode(protocolGuid, forKey: .protocolGuid)
        try container.encode(flags, forKey: .flags)
        try container.encode(ipFilter, forKey: .ipFilter)
        try container.encode(ipFilterId, forKey: .ipFilterId)
        try container.encode(receiveBufferBytes, forKey: .receiveBufferBytes)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(allowedAt, forKey: .allowedAt)
        try container.encode(terminatingAt, forKey: .terminatingAt)
        try container.encode(counters, forKey: .counters)
    }
}

/// A minimal RFC 9457 problem with the HRESULT, for the error paths (not measured).
struct ProblemJSON: ResponseEncodable {
    var title: String
    var status: Int
    var detail: String
    var instance: String
    var hresult: String
    var code: String

    init(_ error: FirewallError, instance: String) {
        status = error.hresult.status
        title = error.hresult.title
        detail = error.detail
        self.instance = instance
        hresult = error.hresult.name
        code = error.hresult.code
    }
}
