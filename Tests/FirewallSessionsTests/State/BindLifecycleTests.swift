import Testing

@testable import FirewallSessions

/// The bind state machine: pending -> allowed -> terminating -> purged, pending expiry, session
/// termination and restore, driven by a fake clock.
@Suite("Bind lifecycle")
struct BindLifecycleTests {
    @Test("a new bind is pending, counted and announced")
    func created() throws {
        var world = try makeWorld()
        try world.makeSession()
        world.clearChanges()
        let bind = try world.makeBind()
        #expect(bind.state == .pending)
        #expect(bind.sessionID == "s1")
        #expect(bind.transport == .udp)
        #expect(bind.address == endpoint("203.0.113.10:40000"))
        #expect(bind.createdAt == t0)
        #expect(bind.pendingSince == t0)
        #expect(bind.grant == nil)
        #expect(bind.terminatingAt == nil)
        #expect(bind.acceptedCount == 0 && bind.discardedCount == 0)
        #expect(world.state.session("s1")?.bindIDs == [bind.id])
        #expect(world.state.session("s1")?.pendingBindCount == 1)
        #expect(world.state.bindCount(.pending) == 1)
        #expect(world.state.totalBindCount == 1)
        #expect(world.changes.events.map(\.kind) == [.bindCreated])
        #expect(world.state.nextDeadline == t0.adding(300))
    }

    @Test("bind ids are b-<number>, increasing")
    func ids() throws {
        var world = try makeWorld()
        try world.makeSession()
        let first = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        let second = try world.makeBind(session: "s1", .udp, "203.0.113.10:40001")
        #expect(first.id < second.id)
        #expect(first.id.description == "b-\(first.id.rawValue)")
        #expect(BindID(first.id.description) == first.id)
    }

    @Test("pending -> allowed -> terminating -> purged after the grace period")
    func fullLife() throws {
        var world = try makeWorld()
        try world.makeSession()
        let created = try world.makeBind()
        world.advance(to: 10)
        try world.allow()
        #expect(world.bind(created.id)?.state == .allowed)

        world.advance(to: 20)
        world.clearChanges()
        let closed = try world.close(created.id)
        #expect(closed.state == .terminating)
        #expect(closed.terminatingAt == t0.adding(20))
        #expect(world.bind(created.id) == closed)
        #expect(world.takeEvents() == [.bindTerminating])
        #expect(world.state.bindCount(.terminating) == 1)
        #expect(world.state.bindCount(.allowed) == 0)

        // Within the grace period: still there, and calls on it say it is terminating.
        world.advance(to: 49.999)
        #expect(world.bind(created.id)?.state == .terminating)
        #expect(world.takeEvents() == [])
        #expect(captureError { try world.close(created.id) }?.hresult == .FWX_E_TERMINATING)
        #expect(captureError { try world.allow() }?.hresult == .FWX_E_TERMINATING)

        // The grace period (30 s) is over: gone.
        world.advance(to: 50)
        #expect(world.bind(created.id) == nil)
        #expect(world.takeEvents() == [.bindRemoved])
        #expect(world.state.session("s1")?.bindIDs == [])
        #expect(world.state.totalBindCount == 0)
        for state in BindState.allCases { #expect(world.state.bindCount(state) == 0) }
        #expect(captureError { try world.close(created.id) }?.hresult == .ERROR_NOT_FOUND)
        #expect(captureError { try world.allow() }?.hresult == .ERROR_NOT_FOUND)
    }

    @Test("a pending bind can be closed, and is purged after the grace period")
    func closePending() throws {
        var world = try makeWorld()
        try world.makeSession()
        let created = try world.makeBind()
        try world.close(created.id)
        #expect(world.state.session("s1")?.pendingBindCount == 0)
        world.advance(to: 30)
        #expect(world.bind(created.id) == nil)
    }

    @Test("closing a bind of another session is ERROR_NOT_FOUND")
    func closeOtherSessionsBind() throws {
        var world = try makeWorld()
        try world.makeSession()
        try world.makeSession(id: "s2")
        let theirs = try world.makeBind(session: "s2")
        #expect(captureError { try world.close(session: "s1", theirs.id) }?.hresult == .ERROR_NOT_FOUND)
        #expect(captureError { try world.close(session: "ghost", theirs.id) }?.hresult == .ERROR_NOT_FOUND)
        #expect(world.bind(theirs.id, session: "s2")?.state == .pending)
    }

    @Test("a pending bind nobody approves expires after the pending timeout, with bind.expired")
    func pendingExpires() throws {
        var world = try makeWorld()
        try world.makeSession()
        let created = try world.makeBind()
        world.clearChanges()

        world.advance(to: 299.999)
        #expect(world.bind(created.id)?.state == .pending)
        #expect(world.changes.isEmpty)

        world.advance(to: 300)
        #expect(world.bind(created.id) == nil)
        #expect(world.changes.events.map(\.kind) == [.bindExpired])
        #expect(world.changes.events.first?.bind?.id == created.id)
        #expect(world.state.session("s1")?.bindIDs == [])
        #expect(world.state.session("s1")?.pendingBindCount == 0)
        #expect(world.state.bindCount(.pending) == 0)
        #expect(captureError { try world.allow() }?.hresult == .ERROR_NOT_FOUND)
        #expect(try world.decide(from: "198.51.100.7:5004", to: "203.0.113.10:40000").reason == .noBind)
    }

    @Test("the pending timeout is configurable")
    func configuredTimeout() throws {
        var world = try makeWorld(settings: makeSettings { $0.pendingTimeoutSeconds = 10 })
        try world.makeSession()
        let created = try world.makeBind()
        world.advance(to: 9.5)
        #expect(world.bind(created.id) != nil)
        world.advance(to: 10)
        #expect(world.bind(created.id) == nil)
    }

    @Test("a bind approved in time does not expire")
    func approvedInTime() throws {
        var world = try makeWorld()
        try world.makeSession()
        let created = try world.makeBind()
        world.advance(to: 299)
        try world.allow()
        world.clearChanges()
        world.advance(to: 300)
        world.advance(to: 100_000)
        #expect(world.bind(created.id)?.state == .allowed)
        #expect(world.changes.isEmpty)
    }

    @Test("a bind revoked back to pending restarts its timer from the revocation")
    func revokedRestartsTimer() throws {
        var world = try makeWorld(rules: [makeRule(name: "Allow all"), makeRule(name: "Allow SIP", protocols: .only([sipGUID]))])
        try world.makeSession()
        let created = try world.makeBind()
        world.advance(to: 100)
        try world.allow()

        // At t0+250 a deny rule for SIP goes first: the bind is pending again since then.
        world.advance(to: 250)
        try world.addRule(makeRule(name: "No SIP", action: .deny, protocols: .only([sipGUID]), position: 1))
        #expect(world.bind(created.id)?.state == .pending)
        #expect(world.bind(created.id)?.pendingSince == t0.adding(250))

        // The creation-time deadline (t0+300) passes without effect...
        world.advance(to: 300)
        #expect(world.bind(created.id)?.state == .pending)
        world.advance(to: 549.5)
        #expect(world.bind(created.id)?.state == .pending)
        // ...and the bind expires 300 s after it became pending again.
        world.clearChanges()
        world.advance(to: 550)
        #expect(world.bind(created.id) == nil)
        #expect(world.changes.events.map(\.kind) == [.bindExpired])
    }

    @Test("ending a session makes all its binds terminating and purges everything after the grace period")
    func sessionTermination() throws {
        var world = try makeWorld()
        try world.makeSession()
        try world.makeSession(id: "s2")
        let pending = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        let allowed = try world.makeBind(session: "s1", .tcp, "203.0.113.10:40001")
        let bystander = try world.makeBind(session: "s2", .udp, "203.0.113.10:40002")
        try world.allow(session: "s1", .tcp, "203.0.113.10:40001", protocolGUID: ftpGUID)
        world.advance(to: 5)
        world.clearChanges()

        let session = try world.terminate()

        #expect(session.state == .terminating)
        #expect(session.terminatingAt == t0.adding(5))
        #expect(world.state.session("s1")?.state == .terminating)
        #expect(world.takeEvents() == [.sessionTerminating, .bindTerminating, .bindTerminating])
        for id in [pending.id, allowed.id] {
            #expect(world.bind(id)?.state == .terminating)
            #expect(world.bind(id)?.terminatingAt == t0.adding(5))
        }
        #expect(world.bind(bystander.id, session: "s2")?.state == .pending)
        #expect(world.state.sessionCount(.terminating) == 1)
        #expect(world.state.sessionCount(.active) == 1)
        #expect(world.state.session("s1")?.pendingBindCount == 0)

        // A terminating session takes no new binds and cannot be ended twice.
        #expect(captureError { try world.makeBind(session: "s1", .udp, "203.0.113.10:40009") }?.hresult == .FWX_E_TERMINATING)
        #expect(captureError { try world.terminate() }?.hresult == .FWX_E_TERMINATING)
        #expect(captureError { try world.close(pending.id) }?.hresult == .FWX_E_TERMINATING)
        #expect(try world.decide(.tcp, from: "198.51.100.7:20", to: "203.0.113.10:40001").reason == .bindTerminating)

        world.advance(to: 34.9)
        #expect(world.state.session("s1") != nil)
        #expect(world.takeEvents() == [])

        world.advance(to: 35)
        #expect(world.state.session("s1") == nil)
        #expect(world.bind(pending.id) == nil)
        #expect(world.bind(allowed.id) == nil)
        let events = world.takeEvents()
        #expect(events.filter { $0 == .bindRemoved }.count == 2)
        #expect(events.filter { $0 == .sessionRemoved }.count == 1)
        #expect(events.count == 3)
        #expect(world.state.totalSessionCount == 1)
        #expect(world.state.totalBindCount == 1)
        #expect(world.state.sessionCount(.terminating) == 0)
        #expect(world.state.bindCount(.terminating) == 0)
        #expect(captureError { try world.terminate() }?.hresult == .ERROR_NOT_FOUND)
        #expect(captureError { try world.allow() }?.hresult == .ERROR_NOT_FOUND)

        // The addresses are free again.
        try world.makeSession(id: "s3")
        #expect(captureError { try world.makeBind(session: "s3", .udp, "203.0.113.10:40000") } == nil)
        #expect(captureError { try world.makeBind(session: "s3", .tcp, "203.0.113.10:40001") } == nil)
    }

    @Test("a session id that exists is FWX_E_ALREADY_EXISTS; a malformed one is E_INVALIDARG")
    func sessionIDs() throws {
        var world = try makeWorld()
        let first = try world.makeSession(id: "ws17-1")
        #expect(first.id == "ws17-1")
        #expect(first.state == .active)
        #expect(first.createdAt == t0)
        #expect(captureError { try world.makeSession(id: "ws17-1") }?.hresult == .FWX_E_ALREADY_EXISTS)
        let invalid = captureError { try world.makeSession(id: "bad id") }
        #expect(invalid?.hresult == .E_INVALIDARG)
        #expect(invalid?.fieldErrors.map(\.field) == ["id"])
        let generated = try world.makeSession(id: nil)
        #expect(generated.id.hasPrefix("s-"))
        #expect(world.state.totalSessionCount == 2)
    }

    @Test("a generated id never takes one a client chose")
    func generatedIDsSkipTaken() throws {
        var world = try makeWorld()
        let probe = try world.makeSession(id: nil)
        let probeNumber = try #require(UInt64(probe.id.dropFirst(2)))
        // The client's session takes sequence probe+1, so the next generated id would be
        // s-(probe+2): the client chose that one first.
        let taken = "s-\(probeNumber + 2)"
        try world.makeSession(id: taken)
        let generated = try world.makeSession(id: nil)
        #expect(generated.id != taken)
        #expect(world.state.session(taken)?.clientAddress == address("10.1.2.3"))
        #expect(generated.id.hasPrefix("s-"))
        #expect(world.state.totalSessionCount == 3)
    }

    // MARK: Restore

    /// Builds a state with one bind in every state, a stored filter, a user protocol and rule,
    /// persists it through the store twin and restarts at t0+200.
    static func restartedWorld() throws -> (world: World, before: World, ids: [String: BindID], filterID: String) {
        let games = makeProtocol()
        var world = try makeWorld(
            rules: [makeRule(name: "Allow all"), makeRule(name: "Games", protocols: .only([games.guid]))],
            protocols: [games], keepSetupChanges: true)
        var twin = StoreTwin()
        try world.makeSession()
        try world.makeSession(id: "s2", user: nil)
        let pending = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        let allowed = try world.makeBind(session: "s1", .udp, "203.0.113.10:40002")
        let closing = try world.makeBind(session: "s1", .tcp, "203.0.113.10:40003")
        let endedWithSession = try world.makeBind(session: "s2", .udp, "203.0.113.20:40004")
        let filter = try world.makeFilter(include: ["198.51.100.0/24"])
        try world.allow(
            session: "s1", .udp, "203.0.113.10:40002", flags: [.bidirectional, .increaseReceiveBuffer],
            ipFilter: .stored(id: filter.id))
        for _ in 0..<2 { _ = try world.decide(from: "198.51.100.7:5004", to: "203.0.113.10:40002") }
        _ = try world.decide(from: "192.0.2.1:5004", to: "203.0.113.10:40002")
        world.changes.changes.append(.bindCounters(world.state.takeDirtyCounters()))
        world.advance(to: 180)
        try world.terminate(session: "s2")
        world.advance(to: 190)
        try world.close(closing.id)
        twin.apply(world.changes)

        let before = world
        var restarted = World(state: FirewallState(restoring: twin.persisted), now: t0.adding(200))
        restarted.state.runTimers(now: restarted.now, changes: &restarted.changes)
        return (
            restarted, before,
            ["pending": pending.id, "allowed": allowed.id, "closing": closing.id, "endedWithSession": endedWithSession.id],
            filter.id
        )
    }

    @Test("restore keeps sessions, binds, states, grants, counters, filters and policy")
    func restoreKeepsEverything() throws {
        let (world, before, ids, filterID) = try Self.restartedWorld()
        #expect(world.changes.isEmpty, "nothing is due at the restart")
        for (name, id) in ids {
            let session = name == "endedWithSession" ? "s2" : "s1"
            #expect(world.bind(id, session: session) == before.bind(id, session: session), "\(name)")
        }
        #expect(world.bind(ids["pending"]!)?.state == .pending)
        #expect(world.bind(ids["allowed"]!)?.grant?.flags == [.bidirectional, .increaseReceiveBuffer])
        #expect(world.bind(ids["allowed"]!)?.grant?.ipFilter == .stored(id: filterID))
        #expect(world.bind(ids["allowed"]!)?.acceptedCount == 2)
        #expect(world.bind(ids["allowed"]!)?.discardedCount == 1)
        #expect(world.bind(ids["closing"]!)?.terminatingAt == t0.adding(190))
        #expect(world.state.session("s1") == before.state.session("s1"))
        #expect(world.state.session("s2") == before.state.session("s2"))
        #expect(world.state.session("s1")?.bindIDs == [ids["pending"]!, ids["allowed"]!, ids["closing"]!])
        #expect(world.state.session("s1")?.pendingBindCount == 1)
        #expect(world.state.ipFilter(filterID) == before.state.ipFilter(filterID))
        #expect(world.state.policyVersion == before.state.policyVersion)
        #expect(world.state.orderedRules == before.state.orderedRules)
        #expect(world.state.protocolDefinition(makeProtocol().guid) == makeProtocol())
        for state in BindState.allCases { #expect(world.state.bindCount(state) == before.state.bindCount(state)) }
        for state in SessionState.allCases {
            #expect(world.state.sessionCount(state) == before.state.sessionCount(state))
        }
    }

    @Test("restore rebuilds the address index, filter and protocol references")
    func restoreRebuildsIndexes() throws {
        var (world, _, ids, filterID) = try Self.restartedWorld()
        let accepted = try world.decide(from: "198.51.100.7:5004", to: "203.0.113.10:40002")
        #expect(accepted == Decision(verdict: .accept, reason: .allowed, sessionID: "s1", bindID: ids["allowed"]))
        #expect(try world.decide(from: "192.0.2.1:5004", to: "203.0.113.10:40002").reason == .ipFilter)
        #expect(try world.decide(from: "192.0.2.1:5004", to: "203.0.113.10:40000").reason == .bindPending)
        #expect(captureError { try world.makeBind(session: "s1", .udp, "0.0.0.0:40000") }?.hresult == .WSAEADDRINUSE)
        #expect(captureError { try world.deleteIPFilter(filterID) }?.hresult == .ERROR_BUSY)
        #expect(try world.allow(session: "s1", .udp, "203.0.113.10:40002").hresult == .S_FALSE)
    }

    @Test("restore continues the timers: pending 200 s before the restart expires 100 s after it")
    func restoreContinuesTimers() throws {
        var (world, _, ids, _) = try Self.restartedWorld()

        // s2 ended at t0+180 and is purged at t0+210 with its bind; the closed bind at t0+220.
        world.advance(to: 209.9)
        #expect(world.state.session("s2") != nil)
        world.advance(to: 210)
        #expect(world.state.session("s2") == nil)
        #expect(world.bind(ids["endedWithSession"]!, session: "s2") == nil)
        world.advance(to: 220)
        #expect(world.bind(ids["closing"]!) == nil)

        world.advance(to: 299.9)
        #expect(world.bind(ids["pending"]!)?.state == .pending)
        world.clearChanges()
        world.advance(to: 300)
        #expect(world.bind(ids["pending"]!) == nil)
        #expect(world.changes.events.map(\.kind) == [.bindExpired])
        #expect(world.bind(ids["allowed"]!)?.state == .allowed)
    }

    @Test("deadlines that passed while the server was down fire at the first timer run")
    func restoreAfterDowntime() throws {
        var world = try makeWorld(keepSetupChanges: true)
        try world.makeSession()
        try world.makeSession(id: "s2")
        let pending = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        let allowed = try world.makeBind(session: "s1", .udp, "203.0.113.10:40001")
        try world.allow(session: "s1", .udp, "203.0.113.10:40001")
        try world.terminate(session: "s2")
        var twin = StoreTwin()
        twin.apply(world.changes)

        var restarted = World(state: FirewallState(restoring: twin.persisted), now: t0.adding(3600))
        #expect(restarted.state.nextDeadline.map { $0 <= restarted.now } == true)
        restarted.state.runTimers(now: restarted.now, changes: &restarted.changes)

        #expect(restarted.bind(pending.id) == nil)
        #expect(restarted.bind(allowed.id)?.state == .allowed)
        #expect(restarted.state.session("s2") == nil)
        let kinds = restarted.changes.events.map(\.kind)
        #expect(kinds.filter { $0 == .bindExpired }.count == 1)
        #expect(kinds.filter { $0 == .sessionRemoved }.count == 1)
        #expect(restarted.state.nextDeadline == nil || restarted.state.nextDeadline! > restarted.now)
    }

    @Test("after restore, new ids are never reused")
    func restoreKeepsIDsUnique() throws {
        var (world, before, ids, filterID) = try Self.restartedWorld()
        let session = try world.makeSession(id: nil)
        let bind = try world.makeBind(session: session.id, .udp, "203.0.113.99:1")
        let filter = try world.makeFilter(include: ["192.0.2.0/24"])
        let rule = try world.addRule(makeRule(name: "Another"))
        #expect(before.state.session(session.id) == nil)
        #expect(ids.values.allSatisfy { $0 < bind.id })
        #expect(filter.id != filterID)
        #expect(!before.state.orderedRules.contains { $0.rule.id == rule.rule.id })
        #expect(world.state.session("s1")?.sequence ?? .max < session.sequence)
    }

    @Test("an expired entry of a purged session's bind does not touch a new bind with a reused address")
    func staleTimerEntries() throws {
        var world = try makeWorld()
        try world.makeSession()
        let first = try world.makeBind()
        try world.close(first.id)
        world.advance(to: 30)
        #expect(world.bind(first.id) == nil)
        // A new bind on the same address; the first bind's pending-expiry entry (t0+300) is stale.
        world.advance(to: 100)
        let second = try world.makeBind()
        world.advance(to: 300)
        #expect(world.bind(second.id)?.state == .pending)
        world.advance(to: 400)
        #expect(world.bind(second.id) == nil)
    }
}
