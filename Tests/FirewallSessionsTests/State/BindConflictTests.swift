import Testing

@testable import FirewallSessions

/// Address conflicts (WSAEADDRINUSE naming the holder) and quotas (FWX_E_IS_BUSY, nothing created).
@Suite("Bind conflicts and quotas")
struct BindConflictTests {
    struct ConflictCase: Sendable, CustomTestStringConvertible {
        var name: String
        var held: (TransportProtocol, String)
        var requested: (TransportProtocol, String)
        /// Whether the requester is the holder's own session.
        var sameSession: Bool
        var conflicts: Bool

        var testDescription: String { name }
    }

    static let conflictCases: [ConflictCase] = [
        .init(name: "same address, other session", held: (.udp, "203.0.113.10:40000"), requested: (.udp, "203.0.113.10:40000"), sameSession: false, conflicts: true),
        .init(name: "same address, same session", held: (.udp, "203.0.113.10:40000"), requested: (.udp, "203.0.113.10:40000"), sameSession: true, conflicts: true),
        .init(name: "same wildcard", held: (.tcp, "0.0.0.0:21"), requested: (.tcp, "0.0.0.0:21"), sameSession: false, conflicts: true),
        .init(name: "wildcard held, specific requested", held: (.udp, "0.0.0.0:40000"), requested: (.udp, "203.0.113.10:40000"), sameSession: false, conflicts: true),
        .init(name: "specific held, wildcard requested", held: (.udp, "203.0.113.10:40000"), requested: (.udp, "0.0.0.0:40000"), sameSession: false, conflicts: true),
        .init(name: "specific held, wildcard requested, same session", held: (.tcp, "203.0.113.10:40000"), requested: (.tcp, "0.0.0.0:40000"), sameSession: true, conflicts: true),
        .init(name: "IPv6 same address", held: (.udp, "[2001:db8::10]:40000"), requested: (.udp, "[2001:db8::10]:40000"), sameSession: false, conflicts: true),
        .init(name: "IPv6 wildcard held, IPv6 specific requested", held: (.udp, "[::]:40000"), requested: (.udp, "[2001:db8::10]:40000"), sameSession: false, conflicts: true),
        .init(name: "IPv6 specific held, IPv6 wildcard requested", held: (.udp, "[2001:db8::10]:40000"), requested: (.udp, "[::]:40000"), sameSession: false, conflicts: true),
        .init(name: "TCP and UDP do not conflict", held: (.tcp, "203.0.113.10:40000"), requested: (.udp, "203.0.113.10:40000"), sameSession: false, conflicts: false),
        .init(name: "UDP wildcard and TCP specific do not conflict", held: (.udp, "0.0.0.0:40000"), requested: (.tcp, "203.0.113.10:40000"), sameSession: false, conflicts: false),
        .init(name: "IPv4 and IPv6 wildcards do not conflict", held: (.udp, "0.0.0.0:40000"), requested: (.udp, "[::]:40000"), sameSession: false, conflicts: false),
        .init(name: "IPv4 wildcard and IPv6 specific do not conflict", held: (.udp, "0.0.0.0:40000"), requested: (.udp, "[2001:db8::10]:40000"), sameSession: false, conflicts: false),
        .init(name: "IPv6 wildcard and IPv4 specific do not conflict", held: (.udp, "[::]:40000"), requested: (.udp, "203.0.113.10:40000"), sameSession: false, conflicts: false),
        .init(name: "other port", held: (.udp, "203.0.113.10:40000"), requested: (.udp, "203.0.113.10:40001"), sameSession: false, conflicts: false),
        .init(name: "wildcard on other port", held: (.udp, "0.0.0.0:40000"), requested: (.udp, "203.0.113.10:40001"), sameSession: false, conflicts: false),
        .init(name: "other address on the port", held: (.udp, "203.0.113.10:40000"), requested: (.udp, "203.0.113.11:40000"), sameSession: false, conflicts: false),
    ]

    @Test("address conflicts", arguments: conflictCases)
    func conflicts(_ testCase: ConflictCase) throws {
        var world = try makeWorld()
        try world.makeSession(id: "holder")
        try world.makeSession(id: "other")
        let holder = try world.makeBind(session: "holder", testCase.held.0, testCase.held.1)
        world.clearChanges()
        let requester = testCase.sameSession ? "holder" : "other"

        let error = captureError { try world.makeBind(session: requester, testCase.requested.0, testCase.requested.1) }

        if testCase.conflicts {
            #expect(error?.hresult == .WSAEADDRINUSE)
            #expect(error?.conflict == BindReference(sessionID: "holder", bindID: holder.id))
            #expect(world.state.totalBindCount == 1)
            #expect(world.changes.isEmpty)
        } else {
            #expect(error == nil)
            #expect(world.state.totalBindCount == 2)
        }
    }

    @Test("a wildcard conflicting with several specific binds names one of them")
    func wildcardAgainstSeveral() throws {
        var world = try makeWorld()
        try world.makeSession(id: "a")
        try world.makeSession(id: "b")
        try world.makeSession(id: "c")
        let first = try world.makeBind(session: "a", .udp, "203.0.113.10:40000")
        let second = try world.makeBind(session: "b", .udp, "203.0.113.11:40000")
        let error = captureError { try world.makeBind(session: "c", .udp, "0.0.0.0:40000") }
        #expect(error?.hresult == .WSAEADDRINUSE)
        let named = try #require(error?.conflict)
        #expect([BindReference(sessionID: "a", bindID: first.id), BindReference(sessionID: "b", bindID: second.id)].contains(named))
    }

    @Test("an expired or purged bind frees its address")
    func freedAddress() throws {
        var world = try makeWorld()
        try world.makeSession(id: "a")
        try world.makeSession(id: "b")
        try world.makeBind(session: "a", .udp, "203.0.113.10:40000")
        let closed = try world.makeBind(session: "a", .udp, "0.0.0.0:40001")
        try world.close(session: "a", closed.id)
        world.advance(to: 30)
        #expect(captureError { try world.makeBind(session: "b", .udp, "203.0.113.10:40001") } == nil)
        world.advance(to: 300)
        #expect(captureError { try world.makeBind(session: "b", .udp, "0.0.0.0:40000") } == nil)
    }

    @Test("binds in a missing session are ERROR_NOT_FOUND")
    func missingSession() throws {
        var world = try makeWorld()
        #expect(captureError { try world.makeBind(session: "ghost") }?.hresult == .ERROR_NOT_FOUND)
        #expect(world.state.totalBindCount == 0)
    }

    // MARK: Quotas

    @Test("the pending binds per session quota: FWX_E_IS_BUSY with Retry-After, nothing created")
    func pendingPerSession() throws {
        var world = try makeWorld(settings: makeSettings {
            $0.maxPendingBindsPerSession = 2
            $0.quotaRetryAfterSeconds = 7
        })
        try world.makeSession()
        try world.makeSession(id: "s2")
        let first = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        let second = try world.makeBind(session: "s1", .udp, "203.0.113.10:40001")
        world.clearChanges()

        let error = captureError { try world.makeBind(session: "s1", .udp, "203.0.113.10:40002") }

        #expect(error?.hresult == .FWX_E_IS_BUSY)
        #expect(error?.retryAfterSeconds == 7)
        #expect(world.state.totalBindCount == 2)
        #expect(world.state.session("s1")?.bindIDs == [first.id, second.id])
        #expect(world.state.session("s1")?.pendingBindCount == 2)
        #expect(world.changes.isEmpty)
        #expect(try world.decide(from: "198.51.100.7:1", to: "203.0.113.10:40002").reason == .noBind)

        // Another session has its own quota; an approved bind no longer counts as pending.
        #expect(captureError { try world.makeBind(session: "s2", .udp, "203.0.113.10:40002") } == nil)
        try world.allow(session: "s1", .udp, "203.0.113.10:40000")
        let third = try world.makeBind(session: "s1", .udp, "203.0.113.10:40003")
        #expect(third.state == .pending)
        #expect(world.state.session("s1")?.pendingBindCount == 2)
    }

    @Test("a refused bind does not use up an id")
    func refusedBindKeepsSequence() throws {
        var world = try makeWorld(settings: makeSettings { $0.maxPendingBindsPerSession = 1 })
        try world.makeSession()
        let first = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        _ = captureError { try world.makeBind(session: "s1", .udp, "203.0.113.10:40001") }
        _ = captureError { try world.makeBind(session: "s1", .udp, "203.0.113.10:40000") }
        try world.allow()
        let second = try world.makeBind(session: "s1", .udp, "203.0.113.10:40001")
        #expect(second.id.rawValue == first.id.rawValue + 1)
    }

    @Test("the total binds quota")
    func totalBinds() throws {
        var world = try makeWorld(settings: makeSettings {
            $0.maxBinds = 3
            $0.quotaRetryAfterSeconds = 2
        })
        try world.makeSession(id: "a")
        try world.makeSession(id: "b")
        try world.makeBind(session: "a", .udp, "203.0.113.10:1")
        try world.makeBind(session: "a", .udp, "203.0.113.10:2")
        try world.makeBind(session: "b", .udp, "203.0.113.10:3")
        world.clearChanges()
        let error = captureError { try world.makeBind(session: "b", .udp, "203.0.113.10:4") }
        #expect(error?.hresult == .FWX_E_IS_BUSY)
        #expect(error?.retryAfterSeconds == 2)
        #expect(world.state.totalBindCount == 3)
        #expect(world.state.session("b")?.bindIDs.count == 1)
        #expect(world.changes.isEmpty)
    }

    @Test("the sessions quota")
    func sessions() throws {
        var world = try makeWorld(settings: makeSettings {
            $0.maxSessions = 2
            $0.quotaRetryAfterSeconds = 3
        })
        try world.makeSession(id: "a")
        try world.makeSession(id: "b")
        world.clearChanges()
        let error = captureError { try world.makeSession(id: "c") }
        #expect(error?.hresult == .FWX_E_IS_BUSY)
        #expect(error?.retryAfterSeconds == 3)
        #expect(world.state.session("c") == nil)
        #expect(world.state.totalSessionCount == 2)
        #expect(world.state.sessionCount(.active) == 2)
        #expect(world.changes.isEmpty)
        #expect(world.state.listSessions(SessionFilter(), page: PageRequest()).items.map(\.id) == ["a", "b"])
    }
}
