import Testing

@testable import FirewallSessions

/// Lifetimes of approvals and sessions: an absolute lifetime from RetroactiveAllowBind within the
/// configured limits, idle timeouts from decision counters or (with a data plane) the kernel's,
/// renewal by calling again, expiry through the normal change path, and restore.
@Suite("Approval and session lifetimes")
struct LifetimeTests {
    static func request(lifetime: Double? = nil, _ text: String = "203.0.113.10:40000") throws -> RetroactiveAllowBindRequest {
        try RetroactiveAllowBindRequest(transport: .udp, address: endpoint(text), protocolGUID: sipGUID, lifetimeSeconds: lifetime)
    }

    /// A world with session s1 and its pending bind on UDP 203.0.113.10:40000.
    static func world(_ adjust: (inout FirewallSettings) -> Void = { _ in }) throws -> (World, BindID) {
        var world = try makeWorld(settings: makeSettings(adjust))
        try world.makeSession()
        let bind = try world.makeBind()
        world.clearChanges()
        return (world, bind.id)
    }

    @Test("by default an approval never ends and calling again changes nothing")
    func defaultsKeepApprovalsOpen() throws {
        var (world, id) = try Self.world()
        let allowed = try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: nil))
        #expect(allowed.binds[0].expiresAt == nil)
        world.advance(to: 1_000_000)
        #expect(world.bind(id)?.state == .allowed)
        world.clearChanges()
        let again = try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: nil))
        #expect(again.hresult == .S_FALSE)
        #expect(world.changes.isEmpty, "nothing is written when nothing changes")
    }

    @Test("an approval with a lifetime is removed when it runs out, with bind.expired")
    func lifetimeRunsOut() throws {
        var (world, id) = try Self.world()
        let result = try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: 60))
        #expect(result.binds[0].expiresAt == t0.adding(60))
        #expect(world.state.nextDeadline == t0.adding(60))
        world.advance(to: 59.9)
        #expect(world.bind(id)?.state == .allowed)
        world.clearChanges()
        world.advance(to: 60)
        #expect(world.bind(id) == nil)
        #expect(world.changes.events.map(\.kind) == [.bindExpired])
        #expect(world.changes.events.first?.bind?.state == .allowed)
        guard case .bindRemoved(let removed)? = world.changes.changes.first else {
            Issue.record("the expiry is a removal, which every sink (the data plane too) applies")
            return
        }
        #expect(removed == id)
        #expect(world.state.bindCount(.allowed) == 0)
        #expect(try world.decide(from: "198.51.100.7:5060", to: "203.0.113.10:40000").reason == .noBind)
    }

    @Test(
        "lifetimes are clamped by the configured minimum and maximum; the maximum also bounds approvals without one",
        arguments: [(10.0 as Double?, 30.0 as Double?), (1000, 120), (90, 90), (nil, 120)])
    func clamped(requested: Double?, granted: Double?) throws {
        var (world, _) = try Self.world {
            $0.minApprovalLifetimeSeconds = 30
            $0.maxApprovalLifetimeSeconds = 120
        }
        let result = try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: requested))
        #expect(result.binds[0].expiresAt == granted.map { t0.adding($0) })
    }

    @Test("the configured default lifetime applies when the request gives none")
    func defaultLifetime() throws {
        var (world, _) = try Self.world { $0.approvalLifetimeSeconds = 45 }
        let result = try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: nil))
        #expect(result.binds[0].expiresAt == t0.adding(45))
    }

    @Test("calling again renews: S_FALSE with the new expiry, written like any change")
    func renewal() throws {
        var (world, id) = try Self.world()
        try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: 60))
        world.advance(to: 50)
        world.clearChanges()
        let renewed = try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: 60))
        #expect(renewed.hresult == .S_FALSE)
        #expect(renewed.binds[0].expiresAt == t0.adding(110))
        #expect(world.changes.changes.contains { if case .bindSaved(let bind) = $0 { bind.expiresAt == t0.adding(110) } else { false } })
        #expect(world.changes.events.isEmpty, "a renewal changes no state")
        world.advance(to: 100)
        #expect(world.bind(id)?.state == .allowed, "the old deadline no longer applies")
        world.advance(to: 110)
        #expect(world.bind(id) == nil)
    }

    @Test("renewals and traffic leave one live timer entry per approval, however often they move its deadline")
    func oneLiveEntry() throws {
        var (world, id) = try Self.world { $0.approvalIdleTimeoutSeconds = 30 }
        try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: 600))
        let queued = world.state.timers.count
        for second in 1...200 {
            world.advance(to: Double(second))
            try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: 600))
            #expect(try world.decide(from: "198.51.100.7:5060", to: "203.0.113.10:40000").verdict == .accept)
        }
        #expect(world.state.timers.count <= queued + 1)
        #expect(world.bind(id)?.expiresAt == t0.adding(230))
        world.advance(to: 229)
        #expect(world.bind(id)?.state == .allowed)
        world.advance(to: 230)
        #expect(world.bind(id) == nil)
    }

    @Test("a renewal may shorten the lifetime")
    func renewalShortens() throws {
        var (world, id) = try Self.world()
        try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: 600))
        try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: 10))
        world.advance(to: 10)
        #expect(world.bind(id) == nil)
    }

    @Test("an idle approval expires; accepted decisions keep it alive, discarded ones do not")
    func idleTimeoutFromDecisions() throws {
        var (world, id) = try Self.world { $0.approvalIdleTimeoutSeconds = 30 }
        try world.retroactiveAllowBind(
            sessionID: "s1",
            RetroactiveAllowBindRequest(
                transport: .udp, address: endpoint("203.0.113.10:40000"), protocolGUID: sipGUID,
                ipFilter: .inline(rangeSet("198.51.100.7"))))
        #expect(world.bind(id)?.expiresAt == t0.adding(30))
        world.advance(to: 20)
        #expect(try world.decide(from: "198.51.100.7:5060", to: "203.0.113.10:40000").verdict == .accept)
        #expect(world.bind(id)?.expiresAt == t0.adding(50))
        world.advance(to: 40)
        #expect(try world.decide(from: "192.0.2.66:5060", to: "203.0.113.10:40000").verdict == .discard)
        world.advance(to: 49)
        #expect(world.bind(id)?.state == .allowed)
        world.clearChanges()
        world.advance(to: 50)
        #expect(world.bind(id) == nil)
        #expect(world.changes.events.map(\.kind) == [.bindExpired])
    }

    @Test("with a data plane an idle approval waits for the kernel's counters: traffic there keeps it")
    func idleTimeoutFromKernelCounters() throws {
        var (world, id) = try Self.world {
            $0.approvalIdleTimeoutSeconds = 30
            $0.decisionsCountTraffic = false
        }
        try world.retroactiveAllowBind(sessionID: "s1", Self.request())
        world.advance(to: 30)
        #expect(world.bind(id)?.state == .allowed, "not expired before the kernel is asked")
        var checks = world.state.takeIdleChecks()
        #expect(checks.bindIDs == [id] && checks.binds.map(\.id) == [id])
        // The kernel counted packets since the last reading: the approval is active.
        world.state.confirmIdle(checks, readings: [BindCounters(bindID: id, accepted: 7, discarded: 0)], now: world.now, changes: &world.changes)
        #expect(world.bind(id)?.expiresAt == t0.adding(60))
        world.advance(to: 60)
        checks = world.state.takeIdleChecks()
        #expect(checks.bindIDs == [id])
        world.clearChanges()
        world.state.confirmIdle(checks, readings: [BindCounters(bindID: id, accepted: 7, discarded: 3)], now: world.now, changes: &world.changes)
        #expect(world.bind(id) == nil, "no accepted packet for 30 s")
        #expect(world.changes.events.map(\.kind) == [.bindExpired])
    }

    @Test("periodic kernel readings count as activity when the accepted count moved")
    func periodicReadings() throws {
        var (world, id) = try Self.world {
            $0.approvalIdleTimeoutSeconds = 30
            $0.decisionsCountTraffic = false
        }
        try world.retroactiveAllowBind(sessionID: "s1", Self.request())
        world.now = t0.adding(25)
        world.state.recordTrafficCounters([BindCounters(bindID: id, accepted: 2, discarded: 0)], now: world.now)
        #expect(world.bind(id)?.expiresAt == t0.adding(55))
        world.now = t0.adding(40)
        world.state.recordTrafficCounters([BindCounters(bindID: id, accepted: 2, discarded: 9)], now: world.now)
        #expect(world.bind(id)?.expiresAt == t0.adding(55))
    }

    @Test("a revoked and re-approved bind gets a fresh lifetime; an approval's old timer is dropped")
    func revokedThenApprovedAgain() throws {
        var (world, id) = try Self.world()
        let rule = try #require(world.state.listRules(page: PageRequest()).items.first)
        try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: 60))
        try world.replaceRule(rule.rule.id, makeRule(action: .deny))
        #expect(world.bind(id)?.state == .pending)
        try world.replaceRule(rule.rule.id, makeRule(action: .allow))
        world.advance(to: 40)
        try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: 60))
        world.advance(to: 60)
        #expect(world.bind(id)?.state == .allowed)
        world.advance(to: 100)
        #expect(world.bind(id) == nil)
    }

    @Test("restore continues an approval's lifetime and idle clock from the stored times")
    func restore() throws {
        var world = try makeWorld(settings: makeSettings { $0.approvalIdleTimeoutSeconds = 100 }, keepSetupChanges: true)
        try world.makeSession()
        let id = try world.makeBind().id
        try world.retroactiveAllowBind(sessionID: "s1", Self.request(lifetime: 60))
        var twin = StoreTwin()
        twin.apply(world.changes)
        var restored = World(state: FirewallState(restoring: twin.persisted, settings: world.state.settings), now: t0.adding(30))
        #expect(restored.bind(id)?.expiresAt == t0.adding(60))
        restored.advance(to: 60)
        #expect(restored.bind(id) == nil)
    }

    @Test("an idle session expires: session.expired, its binds terminate; changes to it move the deadline")
    func sessionIdleTimeout() throws {
        var world = try makeWorld(settings: makeSettings { $0.sessionIdleTimeoutSeconds = 100 })
        let session = try world.makeSession()
        #expect(session.expiresAt == t0.adding(100))
        world.advance(to: 50)
        let bind = try world.makeBind()
        #expect(world.state.session("s1")?.expiresAt == t0.adding(150))
        world.advance(to: 100)
        #expect(world.state.session("s1")?.state == .active)
        world.clearChanges()
        world.advance(to: 150)
        #expect(world.state.session("s1")?.state == .terminating)
        #expect(world.state.session("s1")?.expiresAt == nil)
        #expect(world.changes.events.map(\.kind) == [.sessionExpired, .bindTerminating])
        #expect(world.bind(bind.id)?.state == .terminating)
    }

    @Test("traffic accepted by a session's binds keeps the session alive")
    func sessionKeptAliveByTraffic() throws {
        var world = try makeWorld(settings: makeSettings { $0.sessionIdleTimeoutSeconds = 100 })
        try world.makeSession()
        try world.makeBind()
        try world.allow()
        world.advance(to: 90)
        #expect(try world.decide(from: "198.51.100.7:5060", to: "203.0.113.10:40000").verdict == .accept)
        world.advance(to: 100)
        #expect(world.state.session("s1")?.state == .active)
        #expect(world.state.session("s1")?.expiresAt == t0.adding(190))
        world.advance(to: 190)
        #expect(world.state.session("s1")?.state == .terminating)
    }

    @Test("with a data plane an idle session with allowed binds waits for the kernel's counters")
    func sessionIdleWithKernelCounters() throws {
        var world = try makeWorld(settings: makeSettings {
            $0.sessionIdleTimeoutSeconds = 100
            $0.decisionsCountTraffic = false
        })
        try world.makeSession()
        let bind = try world.makeBind()
        try world.allow()
        world.advance(to: 100)
        #expect(world.state.session("s1")?.state == .active)
        let checks = world.state.takeIdleChecks()
        #expect(checks.sessionIDs == ["s1"] && checks.binds.map(\.id) == [bind.id])
        world.state.confirmIdle(checks, readings: [BindCounters(bindID: bind.id, accepted: 1, discarded: 0)], now: world.now, changes: &world.changes)
        #expect(world.state.session("s1")?.expiresAt == t0.adding(200))
        world.advance(to: 200)
        let again = world.state.takeIdleChecks()
        world.state.confirmIdle(again, readings: [BindCounters(bindID: bind.id, accepted: 1, discarded: 0)], now: world.now, changes: &world.changes)
        #expect(world.state.session("s1")?.state == .terminating)
    }
}
