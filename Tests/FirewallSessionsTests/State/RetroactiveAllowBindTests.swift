import Testing

@testable import FirewallSessions

@Suite("RetroactiveAllowBind")
struct RetroactiveAllowBindTests {
    // MARK: Check order

    /// A state in which several checks would fail at once, the call to make, and what API.md's
    /// order says the first failing check answers.
    struct CheckOrderCase: Sendable, CustomTestStringConvertible {
        var name: String
        var expected: HResult
        /// The start of the error's detail, to tell apart checks that share an HRESULT.
        var detailPrefix: String?
        var build: @Sendable () throws -> (world: World, sessionID: String, request: RetroactiveAllowBindRequest)

        var testDescription: String { name }
    }

    static func request(
        _ text: String = "203.0.113.10:40000", _ transport: TransportProtocol = .udp, protocolGUID: ProtocolGUID = sipGUID,
        flags: [BindFlags] = [], ipFilter: BindIPFilter? = nil
    ) throws -> RetroactiveAllowBindRequest {
        try RetroactiveAllowBindRequest(
            transport: transport, address: endpoint(text), protocolGUID: protocolGUID, flags: flags, ipFilter: ipFilter)
    }

    static let checkOrder: [CheckOrderCase] = [
        CheckOrderCase(
            name: "2 missing session beats missing bind, terminating and rules-denied",
            expected: .ERROR_NOT_FOUND, detailPrefix: "no session with id 'ghost'"
        ) {
            var world = try makeWorld(rules: [])  // default rule: every protocol denied
            try world.makeSession()
            let bind = try world.makeBind()
            try world.close(bind.id)
            return (world, "ghost", try request())
        },
        CheckOrderCase(
            name: "3 missing bind beats terminating session and rules-denied",
            expected: .ERROR_NOT_FOUND, detailPrefix: "session 's1' has no udp bind matching 203.0.113.10:40001"
        ) {
            var world = try makeWorld(rules: [])
            try world.makeSession()
            try world.makeBind()
            try world.terminate()
            return (world, "s1", try request("203.0.113.10:40001"))
        },
        CheckOrderCase(
            name: "3 a bind of another protocol is no match",
            expected: .ERROR_NOT_FOUND, detailPrefix: "session 's1' has no udp bind"
        ) {
            var world = try makeWorld()
            try world.makeSession()
            try world.makeBind(.tcp)
            return (world, "s1", try request())
        },
        CheckOrderCase(
            name: "3 the same address bound by another session is no match",
            expected: .ERROR_NOT_FOUND, detailPrefix: "session 's1' has no udp bind"
        ) {
            var world = try makeWorld()
            try world.makeSession()
            try world.makeSession(id: "s2")
            try world.makeBind(session: "s2")
            return (world, "s1", try request())
        },
        CheckOrderCase(
            name: "4 terminating bind beats rules-denied",
            expected: .FWX_E_TERMINATING, detailPrefix: "bind b-"
        ) {
            var world = try makeWorld(rules: [])
            try world.makeSession()
            let bind = try world.makeBind()
            try world.close(bind.id)
            return (world, "s1", try request())
        },
        CheckOrderCase(
            name: "4 terminating session beats rules-denied",
            expected: .FWX_E_TERMINATING, detailPrefix: "session 's1' is terminating"
        ) {
            var world = try makeWorld(rules: [])
            try world.makeSession()
            try world.makeBind()
            try world.terminate()
            return (world, "s1", try request())
        },
        CheckOrderCase(
            name: "5 rules-denied beats already allowed (S_FALSE)",
            expected: .FWX_E_PROTOCOL_RULES_DENIED, detailPrefix: "rule 'Default rule' (default) denies CONTOSO\\alice"
        ) {
            // FTP is allowed and the bind was allowed as part of FTP; the call asks for SIP.
            var world = try makeWorld(rules: [makeRule(name: "FTP only", protocols: .only([ftpGUID]))])
            try world.makeSession()
            try world.makeBind()
            try world.allow(protocolGUID: ftpGUID)
            return (world, "s1", try request(protocolGUID: sipGUID))
        },
        CheckOrderCase(
            name: "5 a deny rule names itself", expected: .FWX_E_PROTOCOL_RULES_DENIED,
            detailPrefix: "rule 'No SIP for alice' (r-"
        ) {
            var world = try makeWorld(rules: [
                makeRule(name: "No SIP for alice", action: .deny, protocols: .only([sipGUID]), users: ["contoso\\ALICE"]),
                makeRule(),
            ])
            try world.makeSession()
            try world.makeBind()
            return (world, "s1", try request())
        },
        CheckOrderCase(
            name: "5 an undefined protocol GUID is allowed by no rule", expected: .FWX_E_PROTOCOL_RULES_DENIED,
            detailPrefix: "rule 'Default rule' (default) denies"
        ) {
            var world = try makeWorld()  // allows every (defined) protocol to All Users
            try world.makeSession()
            try world.makeBind()
            return (world, "s1", try request(protocolGUID: undefinedGUID))
        },
        CheckOrderCase(
            name: "5 All Authenticated Users does not cover an unauthenticated session",
            expected: .FWX_E_PROTOCOL_RULES_DENIED, detailPrefix: "rule 'Default rule' (default) denies the unauthenticated user"
        ) {
            var world = try makeWorld(rules: [makeRule(users: [AccessRule.allAuthenticatedUsers])])
            try world.makeSession(user: nil)
            try world.makeBind()
            return (world, "s1", try request())
        },
        CheckOrderCase(name: "6 already allowed answers S_FALSE", expected: .S_FALSE) {
            var world = try makeWorld()
            try world.makeSession()
            try world.makeBind()
            try world.allow()
            return (world, "s1", try request())
        },
        CheckOrderCase(name: "7 a pending bind the rules allow answers S_OK", expected: .S_OK) {
            var world = try makeWorld()
            try world.makeSession()
            try world.makeBind()
            return (world, "s1", try request())
        },
        CheckOrderCase(name: "7 All Users covers an unauthenticated session", expected: .S_OK) {
            var world = try makeWorld()
            try world.makeSession(user: nil)
            try world.makeBind()
            return (world, "s1", try request())
        },
    ]

    @Test("the first failing check in API.md's order decides", arguments: checkOrder)
    func firstFailingCheckDecides(_ testCase: CheckOrderCase) throws {
        var (world, sessionID, request) = try testCase.build()
        world.clearChanges()
        if testCase.expected.isSuccess {
            let result = try world.retroactiveAllowBind(
                sessionID: sessionID, request)
            #expect(result.hresult == testCase.expected)
            #expect(!result.binds.isEmpty)
            #expect(result.binds.allSatisfy { $0.state == .allowed })
        } else {
            let error = captureError {
                try world.retroactiveAllowBind(sessionID: sessionID, request)
            }
            #expect(error?.hresult == testCase.expected, "\(String(describing: error))")
            if let prefix = testCase.detailPrefix {
                #expect(error?.detail.hasPrefix(prefix) == true, "detail: \(error?.detail ?? "none")")
            }
            #expect(world.changes.isEmpty, "a failed call must change nothing")
        }
    }

    // MARK: S_OK and S_FALSE

    @Test("S_OK grants the protocol, flags and filter and sends bind.allowed")
    func grants() throws {
        var world = try makeWorld()
        try world.makeSession()
        let created = try world.makeBind()
        world.advance(by: 5)
        world.clearChanges()
        let filter = rangeSet("198.51.100.0/24")
        let result = try world.allow(flags: [.bidirectional, .increaseReceiveBuffer], ipFilter: .inline(filter))
        #expect(result.hresult == .S_OK)
        let bind = try #require(world.bind(created.id))
        #expect(result.binds == [bind])
        #expect(bind.state == .allowed)
        #expect(
            bind.grant
                == BindGrant(
                    protocolGUID: sipGUID, flags: [.bidirectional, .increaseReceiveBuffer], ipFilter: .inline(filter),
                    allowedAt: t0.adding(5)))
        #expect(bind.receiveBufferBytes == 65_536)
        #expect(bind.createdAt == t0)
        #expect(world.changes.events.map(\.kind) == [.bindAllowed])
        #expect(world.changes.events.first?.bind == bind)
        #expect(world.state.bindCount(.allowed) == 1)
        #expect(world.state.bindCount(.pending) == 0)
        #expect(world.state.session("s1")?.pendingBindCount == 0)
    }

    @Test("without increase-receive-buffer the receive buffer is not reported")
    func noReceiveBuffer() throws {
        var world = try makeWorld()
        try world.makeSession()
        let created = try world.makeBind()
        try world.allow(flags: [.bidirectional])
        #expect(world.bind(created.id)?.receiveBufferBytes == nil)
        #expect(world.bind(created.id)?.grant?.flags == [.bidirectional])
    }

    @Test("S_FALSE leaves the flags, the filter and everything else as they were")
    func alreadyAllowedChangesNothing() throws {
        var world = try makeWorld()
        try world.makeSession()
        let created = try world.makeBind()
        let first = try world.allow(flags: [.bidirectional], ipFilter: .inline(rangeSet("198.51.100.7")))
        let before = try #require(world.bind(created.id))
        world.advance(by: 10)
        world.clearChanges()

        let second = try world.allow(flags: [.increaseReceiveBuffer], ipFilter: nil)

        #expect(first.hresult == .S_OK)
        #expect(second.hresult == .S_FALSE)
        #expect(second.binds == [before])
        #expect(world.bind(created.id) == before)
        #expect(world.bind(created.id)?.grant?.flags == [.bidirectional])
        #expect(world.bind(created.id)?.grant?.allowedAt == t0)
        #expect(world.changes.isEmpty)
    }

    @Test("check 1, the flags: bidirectional only with UDP, each flag once, the error naming the flag by its place", arguments: [
        (TransportProtocol.tcp, [BindFlags.bidirectional], "flags[0]", "is only valid for protocol udp"),
        (.tcp, [.increaseReceiveBuffer, .bidirectional], "flags[1]", "is only valid for protocol udp"),
        (.udp, [.bidirectional, .increaseReceiveBuffer, .bidirectional], "flags[2]", "is given twice"),
        (.tcp, [.increaseReceiveBuffer, .increaseReceiveBuffer], "flags[1]", "is given twice"),
    ])
    func invalidFlags(transport: TransportProtocol, flags: [BindFlags], field: String, reason: String) {
        let error = captureError {
            try RetroactiveAllowBindRequest(transport: transport, address: endpoint("203.0.113.10:40000"), protocolGUID: ftpGUID, flags: flags)
        }
        #expect(error == FirewallError.invalid(field, reason))
        #expect(error?.detail == "\(field) \(reason)")
    }

    @Test("flags that check 1 accepts are granted as a set", arguments: [
        (TransportProtocol.tcp, [BindFlags.increaseReceiveBuffer], BindFlags.increaseReceiveBuffer),
        (.udp, [.increaseReceiveBuffer, .bidirectional], [.bidirectional, .increaseReceiveBuffer]),
        (.udp, [], []),
    ] as [(TransportProtocol, [BindFlags], BindFlags)])
    func validFlags(transport: TransportProtocol, flags: [BindFlags], granted: BindFlags) throws {
        let request = try RetroactiveAllowBindRequest(
            transport: transport, address: endpoint("203.0.113.10:40000"), protocolGUID: ftpGUID, flags: flags)
        #expect(request.flags == granted)
    }

    @Test("an inline filter over the limit is E_INVALIDARG naming ipFilter.include")
    func inlineFilterLimit() throws {
        let error = captureError {
            try BindIPFilter.building(include: [range("10.0.0.1"), range("10.0.0.3")], exclude: [], limit: 1)
        }
        #expect(error == FirewallError.invalid("ipFilter.include", "would make the filter hold more than 1 ranges"))
        #expect(try BindIPFilter.building(include: [range("10.0.0.0/24")], exclude: [range("10.0.0.7")], limit: 2)
                == .inline(rangeSet("10.0.0.0-10.0.0.6", "10.0.0.8-10.0.0.255")))
    }

    @Test("a stored ipFilterId that does not exist fails and leaves the bind pending")
    func missingStoredFilter() throws {
        var world = try makeWorld()
        try world.makeSession()
        let created = try world.makeBind()
        world.clearChanges()
        let error = captureError { try world.allow(ipFilter: .stored(id: "f-404")) }
        #expect(error?.hresult == .ERROR_NOT_FOUND)
        #expect(error?.fieldErrors.map(\.field) == ["ipFilterId"])
        #expect(world.bind(created.id)?.state == .pending)
        #expect(world.changes.isEmpty)
    }

    @Test("a stored ipFilterId that exists is granted by reference")
    func storedFilter() throws {
        var world = try makeWorld()
        try world.makeSession()
        let created = try world.makeBind()
        let filter = try world.makeFilter(include: ["198.51.100.0/24"])
        let result = try world.allow(ipFilter: .stored(id: filter.id))
        #expect(result.hresult == .S_OK)
        #expect(world.bind(created.id)?.grant?.ipFilter == .stored(id: filter.id))
    }

    // MARK: Which binds an address matches

    @Test("a wildcard address matches every bind of the session on that protocol, family and port, and no other")
    func wildcardMatchesAllOnPort() throws {
        var world = try makeWorld()
        try world.makeSession()
        try world.makeSession(id: "s2")
        let first = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        let second = try world.makeBind(session: "s1", .udp, "203.0.113.11:40000")
        let otherPort = try world.makeBind(session: "s1", .udp, "203.0.113.10:40001")
        let tcp = try world.makeBind(session: "s1", .tcp, "203.0.113.10:40000")
        let v6 = try world.makeBind(session: "s1", .udp, "[2001:db8::10]:40000")
        let otherSession = try world.makeBind(session: "s2", .udp, "203.0.113.12:40000")

        let result = try world.allow(session: "s1", .udp, "0.0.0.0:40000")

        #expect(result.hresult == .S_OK)
        #expect(result.binds.map(\.id) == [first.id, second.id])
        #expect(world.bind(first.id)?.state == .allowed)
        #expect(world.bind(second.id)?.state == .allowed)
        for untouched in [otherPort, tcp, v6] { #expect(world.bind(untouched.id)?.state == .pending) }
        #expect(world.bind(otherSession.id, session: "s2")?.state == .pending)
        #expect(world.changes.events.filter { $0.kind == .bindAllowed }.count == 2)
    }

    @Test("an IPv6 wildcard matches the session's IPv6 binds on the port")
    func v6Wildcard() throws {
        var world = try makeWorld()
        try world.makeSession()
        let v4 = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        let v6 = try world.makeBind(session: "s1", .udp, "[2001:db8::10]:40000")
        let result = try world.allow(session: "s1", .udp, "[::]:40000")
        #expect(result.binds.map(\.id) == [v6.id])
        #expect(world.bind(v4.id)?.state == .pending)
    }

    @Test("a wildcard address also matches the session's wildcard bind")
    func wildcardMatchesWildcard() throws {
        var world = try makeWorld()
        try world.makeSession()
        let wildcard = try world.makeBind(session: "s1", .udp, "0.0.0.0:40000")
        let result = try world.allow(session: "s1", .udp, "0.0.0.0:40000")
        #expect(result.binds.map(\.id) == [wildcard.id])
    }

    @Test("a wildcard over allowed and pending binds allows the pending ones (S_OK) and keeps the others' grant")
    func wildcardOverMixedStates() throws {
        var world = try makeWorld()
        try world.makeSession()
        let first = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        try world.allow(session: "s1", .udp, "203.0.113.10:40000", flags: [.bidirectional])
        let grant = world.bind(first.id)?.grant
        world.advance(by: 1)
        let second = try world.makeBind(session: "s1", .udp, "203.0.113.11:40000")
        world.clearChanges()

        let result = try world.allow(session: "s1", .udp, "0.0.0.0:40000", flags: [])

        #expect(result.hresult == .S_OK)
        #expect(result.binds.map(\.id) == [first.id, second.id])
        #expect(world.bind(first.id)?.grant == grant)
        #expect(world.bind(second.id)?.grant?.flags == [])
        #expect(world.changes.events.map(\.kind) == [.bindAllowed])
        #expect(try world.allow(session: "s1", .udp, "0.0.0.0:40000").hresult == .S_FALSE)
    }

    @Test("a specific address falls back to the session's wildcard bind on that port")
    func specificFallsBackToWildcard() throws {
        var world = try makeWorld()
        try world.makeSession()
        let wildcard = try world.makeBind(session: "s1", .udp, "0.0.0.0:40000")
        let result = try world.allow(session: "s1", .udp, "203.0.113.10:40000")
        #expect(result.hresult == .S_OK)
        #expect(result.binds.map(\.id) == [wildcard.id])
        #expect(world.bind(wildcard.id)?.state == .allowed)
    }

    @Test("a specific address does not match a bind on another address of the port")
    func specificDoesNotMatchSibling() throws {
        var world = try makeWorld()
        try world.makeSession()
        try world.makeBind(session: "s1", .udp, "203.0.113.11:40000")
        let error = captureError { try world.allow(session: "s1", .udp, "203.0.113.10:40000") }
        #expect(error?.hresult == .ERROR_NOT_FOUND)
    }

    @Test("binds of other sessions never match, specific or wildcard")
    func otherSessionsNeverMatch() throws {
        var world = try makeWorld()
        try world.makeSession()
        try world.makeSession(id: "s2")
        let theirs = try world.makeBind(session: "s2", .udp, "0.0.0.0:40000")
        let theirSpecific = try world.makeBind(session: "s2", .udp, "203.0.113.10:40001")
        world.clearChanges()

        for text in ["203.0.113.10:40000", "0.0.0.0:40000", "203.0.113.10:40001", "0.0.0.0:40001"] {
            let error = captureError { try world.allow(session: "s1", .udp, text) }
            #expect(error?.hresult == .ERROR_NOT_FOUND, "\(text)")
        }
        #expect(world.bind(theirs.id, session: "s2")?.state == .pending)
        #expect(world.bind(theirSpecific.id, session: "s2")?.state == .pending)
        #expect(world.changes.isEmpty)
    }
}
