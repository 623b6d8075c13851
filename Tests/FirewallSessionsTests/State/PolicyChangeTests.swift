import Testing

@testable import FirewallSessions

/// Rules and protocol definitions through the state: versions, positions, the default rule, and
/// re-checking allowed binds after a change.
@Suite("Policy changes")
struct PolicyChangeTests {
    static func names(_ state: FirewallState) -> [String] { state.orderedRules.map(\.rule.name) }

    static func positionsAreOneToN(_ state: FirewallState) -> Bool {
        state.orderedRules.map(\.position) == Array(1...state.orderedRules.count)
            && state.orderedRules.last?.isDefault == true
            && state.orderedRules.dropLast().allSatisfy { !$0.isDefault }
    }

    @Test("a new state has only the default rule, at position 1, and policy version 1")
    func initial() {
        let state = FirewallState()
        #expect(state.policyVersion == 1)
        #expect(state.orderedRules == [PositionedRule(rule: AccessRule.defaultRule, position: 1)])
        #expect(state.rule("default")?.isDefault == true)
    }

    @Test("creating, moving and deleting rules raises policyVersion and keeps positions 1..n, the default rule last")
    func positions() throws {
        var world = try makeWorld(rules: [])
        let a = try world.addRule(makeRule(name: "A"))
        #expect(world.state.policyVersion == 2)
        #expect(a.position == 1)
        try world.addRule(makeRule(name: "B"))
        let c = try world.addRule(makeRule(name: "C"))
        #expect(c.position == 3)
        let d = try world.addRule(makeRule(name: "D", position: 1))
        #expect(d.position == 1)
        #expect(Self.names(world.state) == ["D", "A", "B", "C", "Default rule"])
        #expect(Self.positionsAreOneToN(world.state))
        #expect(world.state.policyVersion == 5)

        // Just before the default rule is the last place a rule may take.
        let e = try world.addRule(makeRule(name: "E", position: 5))
        #expect(e.position == 5)
        #expect(Self.names(world.state) == ["D", "A", "B", "C", "E", "Default rule"])

        // Move C to the front, keeping its id; then E to the place before default.
        world.clearChanges()
        let moved = try world.replaceRule(c.rule.id, makeRule(name: "C2", position: 1))
        #expect(moved.position == 1)
        #expect(moved.rule.id == c.rule.id)
        #expect(Self.names(world.state) == ["C2", "D", "A", "B", "E", "Default rule"])
        #expect(world.state.policyVersion == 7)
        #expect(world.changes.events.map(\.kind) == [.policyChanged])
        #expect(world.changes.events.first?.policyVersion == 7)
        let kept = try world.replaceRule(a.rule.id, makeRule(name: "A2"))
        #expect(kept.position == 3)
        _ = try world.replaceRule(d.rule.id, makeRule(name: "D", position: 5))
        #expect(Self.names(world.state) == ["C2", "A2", "B", "E", "D", "Default rule"])

        try world.deleteRule(a.rule.id)
        #expect(Self.names(world.state) == ["C2", "B", "E", "D", "Default rule"])
        #expect(Self.positionsAreOneToN(world.state))
        #expect(world.state.policyVersion == 10)
        #expect(world.state.rule(a.rule.id) == nil)
        #expect(world.state.rule("default")?.position == 5)
    }

    @Test("positions outside 1...n+1 are E_INVALIDARG and change nothing", arguments: [0, -1, 4, 100])
    func badPositions(position: Int) throws {
        var world = try makeWorld(rules: [makeRule(name: "A"), makeRule(name: "B")])
        let version = world.state.policyVersion
        let create = captureError { try world.addRule(makeRule(name: "X", position: position)) }
        #expect(create?.hresult == .E_INVALIDARG)
        #expect(create?.fieldErrors.map(\.field) == ["position"])
        let b = try #require(world.state.orderedRules.first { $0.rule.name == "B" })
        let move = captureError {
            try world.replaceRule(b.rule.id, makeRule(name: "B", position: position))
        }
        #expect(move?.hresult == .E_INVALIDARG)
        #expect(Self.names(world.state) == ["A", "B", "Default rule"])
        #expect(world.state.policyVersion == version)
        #expect(world.changes.isEmpty)
    }

    @Test("the default rule cannot be changed, moved or deleted: E_ACCESSDENIED")
    func defaultRuleIsFixed() throws {
        var world = try makeWorld()
        let version = world.state.policyVersion
        let replace = captureError {
            try world.replaceRule("default", makeRule(name: "Allow all", position: 1))
        }
        #expect(replace?.hresult == .E_ACCESSDENIED)
        let delete = captureError { try world.deleteRule("default") }
        #expect(delete?.hresult == .E_ACCESSDENIED)
        #expect(world.state.orderedRules.last?.rule == AccessRule.defaultRule)
        #expect(world.state.policyVersion == version)
        #expect(world.changes.isEmpty)
    }

    @Test("unknown rules are ERROR_NOT_FOUND")
    func unknownRule() throws {
        var world = try makeWorld()
        #expect(captureError { try world.deleteRule("r-999") }?.hresult == .ERROR_NOT_FOUND)
        #expect(captureError {
            try world.replaceRule("r-999", makeRule())
        }?.hresult == .ERROR_NOT_FOUND)
    }

    @Test("a rule naming an undefined protocol is E_INVALIDARG naming the field")
    func undefinedProtocolInRule() throws {
        var world = try makeWorld(rules: [])
        let only = captureError { try world.addRule(makeRule(protocols: .only([sipGUID, undefinedGUID]))) }
        #expect(only?.hresult == .E_INVALIDARG)
        #expect(only?.fieldErrors.map(\.field) == ["protocols[1]"])
        let except = captureError { try world.addRule(makeRule(protocols: .allExcept([undefinedGUID]))) }
        #expect(except?.fieldErrors.map(\.field) == ["protocols.except[0]"])
        #expect(world.state.policyVersion == 1)
        #expect(world.state.orderedRules.count == 1)
    }

    @Test("after a change that denies, allowed binds go back to pending with bind.revoked")
    func revocation() throws {
        var world = try makeWorld()
        try world.makeSession(id: "alice")
        try world.makeSession(id: "bob", user: SessionUser(name: "CONTOSO\\bob"))
        let aliceSIP = try world.makeBind(session: "alice", .udp, "203.0.113.10:40000")
        let aliceFTP = try world.makeBind(session: "alice", .tcp, "203.0.113.10:40001")
        let bobSIP = try world.makeBind(session: "bob", .udp, "203.0.113.10:40002")
        try world.allow(session: "alice", .udp, "203.0.113.10:40000", protocolGUID: sipGUID, flags: [.bidirectional])
        try world.allow(session: "alice", .tcp, "203.0.113.10:40001", protocolGUID: ftpGUID)
        try world.allow(session: "bob", .udp, "203.0.113.10:40002", protocolGUID: sipGUID)
        _ = try world.decide(from: "198.51.100.7:1", to: "203.0.113.10:40000")
        world.advance(to: 60)
        world.clearChanges()

        let deny = try world.addRule(
            makeRule(name: "No SIP for alice", action: .deny, protocols: .only([sipGUID]), users: ["contoso\\Alice"], position: 1))

        let revoked = try #require(world.bind(aliceSIP.id, session: "alice"))
        #expect(revoked.state == .pending)
        #expect(revoked.grant == nil)
        #expect(revoked.pendingSince == t0.adding(60))
        #expect(revoked.acceptedCount == 1)
        #expect(world.bind(aliceFTP.id, session: "alice")?.state == .allowed)
        #expect(world.bind(bobSIP.id, session: "bob")?.state == .allowed)
        #expect(world.changes.events.map(\.kind) == [.policyChanged, .bindRevoked])
        #expect(world.changes.events.last?.bind == revoked)
        #expect(world.state.bindCount(.pending) == 1)
        #expect(world.state.bindCount(.allowed) == 2)
        #expect(world.state.session("alice")?.pendingBindCount == 1)

        // Its traffic is discarded again, replies too, and it cannot be approved for SIP.
        #expect(try world.decide(from: "198.51.100.7:1", to: "203.0.113.10:40000").reason == .bindPending)
        #expect(try world.decide(.udp, .outbound, from: "203.0.113.10:40000", to: "198.51.100.7:1").reason == .bindPending)
        #expect(captureError { try world.allow(session: "alice", .udp, "203.0.113.10:40000") }?.hresult
                == .FWX_E_PROTOCOL_RULES_DENIED)

        // Lifting the deny rule does not approve it by itself; a new call does.
        try world.deleteRule(deny.rule.id)
        #expect(world.bind(aliceSIP.id, session: "alice")?.state == .pending)
        #expect(try world.allow(session: "alice", .udp, "203.0.113.10:40000").hresult == .S_OK)
        #expect(try world.decide(from: "198.51.100.7:1", to: "203.0.113.10:40000").reason == .allowed)
    }

    @Test("a change that still allows revokes nothing")
    func noRevocation() throws {
        var world = try makeWorld()
        try world.makeSession()
        let bind = try world.makeBind()
        try world.allow()
        world.clearChanges()
        try world.addRule(makeRule(name: "Deny FTP", action: .deny, protocols: .only([ftpGUID]), position: 1))
        try world.addRule(makeRule(name: "Deny bob", action: .deny, users: ["CONTOSO\\bob"], position: 1))
        try world.addRule(makeRule(name: "Deny others", action: .deny, sourceAddresses: rangeSet("192.0.2.0/24"), position: 1))
        #expect(world.bind(bind.id)?.state == .allowed)
        #expect(world.changes.events.map(\.kind) == [.policyChanged, .policyChanged, .policyChanged])
    }

    @Test("disabling the rule that allowed a bind revokes it")
    func disablingRevokes() throws {
        var world = try makeWorld()
        try world.makeSession()
        let bind = try world.makeBind()
        try world.allow()
        let allowAll = try #require(world.state.orderedRules.first)
        _ = try world.replaceRule(allowAll.rule.id, makeRule(enabled: false))
        #expect(world.bind(bind.id)?.state == .pending)
    }

    // MARK: Protocols

    @Test("protocol definitions: create, replace and delete raise policyVersion")
    func protocolLifecycle() throws {
        var world = try makeWorld(rules: [])
        let custom = makeProtocol()
        let created = try world.createProtocol(custom)
        #expect(created == custom)
        #expect(world.state.policyVersion == 2)
        var changed = custom
        changed.name = "Game 2"
        _ = try world.replaceProtocol(changed)
        #expect(world.state.protocolDefinition(custom.guid)?.name == "Game 2")
        #expect(world.state.policyVersion == 3)
        try world.deleteProtocol(custom.guid)
        #expect(world.state.protocolDefinition(custom.guid) == nil)
        #expect(world.state.policyVersion == 4)
        #expect(captureError { try world.deleteProtocol(custom.guid) }?.hresult
                == .ERROR_NOT_FOUND)
        #expect(captureError { try world.replaceProtocol(custom) }?.hresult
                == .ERROR_NOT_FOUND)
    }

    @Test("a GUID that exists, built-in or not, is FWX_E_ALREADY_EXISTS")
    func duplicateProtocol() throws {
        var world = try makeWorld(protocols: [makeProtocol()])
        #expect(captureError { try world.createProtocol(makeProtocol(name: "Again")) }?.hresult
                == .FWX_E_ALREADY_EXISTS)
        var sip = BuiltInProtocols.sip
        sip.isBuiltIn = false
        #expect(captureError { try world.createProtocol(sip) }?.hresult
                == .FWX_E_ALREADY_EXISTS)
    }

    @Test("built-in protocols cannot be changed or deleted")
    func builtInsAreFixed() throws {
        var world = try makeWorld(rules: [])
        var sip = BuiltInProtocols.sip
        sip.name = "Not SIP"
        sip.isBuiltIn = false
        #expect(captureError { try world.replaceProtocol(sip) }?.hresult
                == .E_ACCESSDENIED)
        #expect(captureError { try world.deleteProtocol(sipGUID) }?.hresult
                == .E_ACCESSDENIED)
        #expect(world.state.protocolDefinition(sipGUID) == BuiltInProtocols.sip)
        #expect(world.state.policyVersion == 1)
        #expect(world.changes.isEmpty)
    }

    @Test("a user-defined protocol cannot sneak in as built-in")
    func createdIsNeverBuiltIn() throws {
        var world = try makeWorld(rules: [])
        var custom = makeProtocol()
        custom.isBuiltIn = true
        #expect(try world.createProtocol(custom).isBuiltIn == false)
        #expect(captureError { try world.deleteProtocol(custom.guid) } == nil)
    }

    @Test("deleting a protocol a rule names is ERROR_BUSY")
    func protocolUsedByRule() throws {
        let custom = makeProtocol()
        var world = try makeWorld(rules: [makeRule(name: "Games", protocols: .allExcept([custom.guid]))], protocols: [custom])
        let version = world.state.policyVersion
        let error = captureError { try world.deleteProtocol(custom.guid) }
        #expect(error?.hresult == .ERROR_BUSY)
        #expect(world.state.protocolDefinition(custom.guid) != nil)
        #expect(world.state.policyVersion == version)
    }

    @Test("deleting a protocol granted to an allowed bind is ERROR_BUSY, and allowed once the bind is closed")
    func protocolUsedByBind() throws {
        let custom = makeProtocol()
        var world = try makeWorld(protocols: [custom])  // the rule allows any protocol: it names none
        try world.makeSession()
        let bind = try world.makeBind()
        try world.allow(protocolGUID: custom.guid)
        let error = captureError { try world.deleteProtocol(custom.guid) }
        #expect(error?.hresult == .ERROR_BUSY)
        try world.close(bind.id)
        #expect(captureError { try world.deleteProtocol(custom.guid) } == nil)
        // Now undefined: allowed by no rule.
        try world.makeBind(session: "s1", .udp, "203.0.113.10:40001")
        #expect(captureError { try world.allow(session: "s1", .udp, "203.0.113.10:40001", protocolGUID: custom.guid) }?.hresult
                == .FWX_E_PROTOCOL_RULES_DENIED)
    }

    @Test("a new protocol can be allowed at once")
    func newProtocolIsUsable() throws {
        var world = try makeWorld()
        try world.makeSession()
        try world.makeBind()
        let custom = makeProtocol()
        #expect(captureError { try world.allow(protocolGUID: custom.guid) }?.hresult == .FWX_E_PROTOCOL_RULES_DENIED)
        _ = try world.createProtocol(custom)
        #expect(try world.allow(protocolGUID: custom.guid).hresult == .S_OK)
    }

    @Test("the dry run evaluates a session or a user and address")
    func dryRun() throws {
        var world = try makeWorld(rules: [makeRule(name: "Staff", users: ["CONTOSO\\Staff"])])
        try world.makeSession(user: makeUser(groups: ["contoso\\staff"]))
        try world.makeSession(id: "anon", user: nil)
        let rule = try #require(world.state.orderedRules.first)
        #expect(try world.state.evaluate(sessionID: "s1", protocolGUID: sipGUID)
                == .init(action: .allow, ruleID: rule.rule.id, ruleName: "Staff"))
        #expect(try world.state.evaluate(sessionID: "anon", protocolGUID: sipGUID).ruleID == "default")
        #expect(captureError { try world.state.evaluate(sessionID: "ghost", protocolGUID: sipGUID) }?.hresult == .ERROR_NOT_FOUND)
        #expect(world.state.evaluate(user: nil, clientAddress: address("10.0.0.1"), protocolGUID: sipGUID).action == .deny)
    }
}
