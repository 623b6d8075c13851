import Testing

@testable import FirewallSessions

/// What happens to a packet: every reason, counters, the recent-peer window.
@Suite("Decisions")
struct DecisionTests {
    static let bound = "203.0.113.10:40000"
    static let peer = "198.51.100.7:5004"

    /// A world with session s1 and a UDP bind on `bound`, optionally allowed with flags and filter.
    static func makeBoundWorld(
        allowed: Bool = true, transport: TransportProtocol = .udp, flags: [BindFlags] = [], ipFilter: BindIPFilter? = nil,
        settings: FirewallSettings = FirewallSettings()
    ) throws -> (World, BindID) {
        var world = try makeWorld(settings: settings)
        try world.makeSession()
        let bind = try world.makeBind(session: "s1", transport, bound)
        if allowed {
            try world.allow(session: "s1", transport, bound, protocolGUID: transport == .udp ? sipGUID : ftpGUID,
                            flags: flags, ipFilter: ipFilter)
        }
        world.clearChanges()
        return (world, bind.id)
    }

    // MARK: Inbound

    @Test("no bind: discard, no-bind, nobody named")
    func noBind() throws {
        var world = try makeWorld()
        try world.makeSession()
        try world.makeBind(session: "s1", .udp, "203.0.113.10:40001")
        for (transport, destination) in [(TransportProtocol.udp, Self.bound), (.tcp, "203.0.113.10:40001"), (.udp, "[2001:db8::10]:40001")] {
            let decision = try world.decide(transport, from: Self.peer, to: destination)
            #expect(decision == Decision(verdict: .discard, reason: .noBind, sessionID: nil, bindID: nil))
        }
    }

    @Test("pending bind: discard, bind-pending")
    func pending() throws {
        var (world, id) = try Self.makeBoundWorld(allowed: false)
        #expect(try world.decide(from: Self.peer, to: Self.bound)
                == Decision(verdict: .discard, reason: .bindPending, sessionID: "s1", bindID: id))
    }

    @Test("terminating bind: discard, bind-terminating")
    func terminating() throws {
        var (world, id) = try Self.makeBoundWorld()
        try world.close(id)
        #expect(try world.decide(from: Self.peer, to: Self.bound)
                == Decision(verdict: .discard, reason: .bindTerminating, sessionID: "s1", bindID: id))
    }

    @Test("allowed bind without a filter accepts every peer")
    func allowedUnrestricted() throws {
        var (world, id) = try Self.makeBoundWorld()
        for source in [Self.peer, "192.0.2.1:1", "[2001:db8::99]:7"] {
            #expect(try world.decide(from: source, to: Self.bound)
                    == Decision(verdict: .accept, reason: .allowed, sessionID: "s1", bindID: id))
        }
    }

    static let filterCases: [(String, DecisionReason)] = [
        ("198.51.100.7:5004", .allowed),
        ("198.51.100.0:1", .allowed),
        ("198.51.100.255:65535", .allowed),
        ("198.51.100.13:5004", .ipFilter),
        ("198.51.101.1:5004", .ipFilter),
        ("192.0.2.1:5004", .ipFilter),
        ("[::ffff:198.51.100.7]:5004", .allowed),
        ("[::ffff:198.51.100.13]:5004", .ipFilter),
        ("[2001:db8::1]:5004", .ipFilter),
    ]

    @Test("an inline filter decides by the source address", arguments: filterCases)
    func inlineFilter(source: String, reason: DecisionReason) throws {
        var (world, id) = try Self.makeBoundWorld(ipFilter: .inline(rangeSet("198.51.100.0-198.51.100.12", "198.51.100.14-198.51.100.255")))
        let decision = try world.decide(from: source, to: Self.bound)
        #expect(decision == Decision(verdict: reason == .allowed ? .accept : .discard, reason: reason, sessionID: "s1", bindID: id))
    }

    @Test("an empty filter admits no peer")
    func emptyFilter() throws {
        var (world, _) = try Self.makeBoundWorld(ipFilter: .inline(IPRangeSet()))
        #expect(try world.decide(from: Self.peer, to: Self.bound).reason == .ipFilter)
        #expect(try world.decide(from: "[2001:db8::1]:1", to: Self.bound).reason == .ipFilter)
    }

    @Test("TCP inbound is decided like UDP")
    func tcpInbound() throws {
        var (world, id) = try Self.makeBoundWorld(transport: .tcp, ipFilter: .inline(rangeSet("198.51.100.7")))
        #expect(try world.decide(.tcp, from: Self.peer, to: Self.bound) == Decision(verdict: .accept, reason: .allowed, sessionID: "s1", bindID: id))
        #expect(try world.decide(.tcp, from: "198.51.100.8:1", to: Self.bound).reason == .ipFilter)
        #expect(try world.decide(.udp, from: Self.peer, to: Self.bound).reason == .noBind)
    }

    @Test("a wildcard bind receives for every address of its family on its port")
    func wildcardBind() throws {
        var world = try makeWorld()
        try world.makeSession()
        let wildcard = try world.makeBind(session: "s1", .udp, "0.0.0.0:40000")
        try world.allow(session: "s1", .udp, "0.0.0.0:40000")
        for destination in ["203.0.113.10:40000", "203.0.113.77:40000", "10.0.0.1:40000"] {
            #expect(try world.decide(from: Self.peer, to: destination).bindID == wildcard.id, "\(destination)")
        }
        #expect(try world.decide(from: Self.peer, to: "[2001:db8::10]:40000").reason == .noBind)
        #expect(try world.decide(from: Self.peer, to: "203.0.113.10:40001").reason == .noBind)
        #expect(try world.decide(.tcp, from: Self.peer, to: "203.0.113.10:40000").reason == .noBind)
    }

    @Test("the exact address is preferred over the wildcard (address index)")
    func exactBeforeWildcardIndex() {
        var index = BindAddressIndex()
        index.insert(BindID(rawValue: 1), .udp, endpoint("0.0.0.0:40000"))
        index.insert(BindID(rawValue: 2), .udp, endpoint("203.0.113.10:40000"))
        index.insert(BindID(rawValue: 3), .udp, endpoint("[::]:40000"))
        #expect(index.lookup(.udp, endpoint("203.0.113.10:40000")) == BindID(rawValue: 2))
        #expect(index.lookup(.udp, endpoint("203.0.113.11:40000")) == BindID(rawValue: 1))
        #expect(index.lookup(.udp, endpoint("[2001:db8::1]:40000")) == BindID(rawValue: 3))
        #expect(index.lookup(.tcp, endpoint("203.0.113.10:40000")) == nil)
        #expect(index.lookup(.udp, endpoint("203.0.113.10:40001")) == nil)
        index.remove(BindID(rawValue: 2), .udp, endpoint("203.0.113.10:40000"))
        #expect(index.lookup(.udp, endpoint("203.0.113.10:40000")) == BindID(rawValue: 1))
        #expect(index.onPort(.udp, family: .v4, port: 40000) == [BindID(rawValue: 1)])
    }

    @Test(
        "a restore finds every bind and skips orphans, its address index built inline or handed in",
        arguments: [false, true])
    func restoreIndexesBinds(handedIn: Bool) throws {
        var persisted = PersistedState()
        persisted.sessions = (0..<100).map { index in
            Session(id: "s\(index)", clientAddress: address("10.0.0.\(index + 1)"), clientType: .secureNAT,
                    clientMachineName: nil, user: nil, createdAt: t0, sequence: UInt64(index + 1))
        }
        let grant = BindGrant(protocolGUID: ftpGUID, flags: [], ipFilter: nil, allowedAt: t0)
        let count = 5_000
        func bindAddress(_ k: Int) -> SocketAddress { endpoint("203.0.\(k / 60_000).\(k / 240 % 250):\(1 + k % 240 + 1000)") }
        persisted.binds = (0..<count).map { k in
            Bind(id: BindID(rawValue: UInt64(1000 + k)), sessionID: k % 1000 == 7 ? "gone" : "s\(k % 100)",
                 transport: .tcp, address: bindAddress(k), state: .allowed, grant: grant, createdAt: t0)
        }
        // An orphan on the address of a kept bind, restored after it: the kept bind must still be found.
        persisted.binds.append(Bind(id: BindID(rawValue: UInt64(1000 + count)), sessionID: "gone", transport: .tcp,
                                    address: bindAddress(0), state: .allowed, grant: grant, createdAt: t0))
        var handedBinds: [Bind]?
        var state = FirewallState(restoring: persisted, addressIndex: handedIn ? { binds in
            handedBinds = binds
            let index = BindAddressIndex(indexing: binds)
            return { index }
        } : nil)
        #expect(handedBinds.map { $0.map(\.id) } == (handedIn ? persisted.binds.map(\.id) : nil), "handed over in id order")
        #expect(state.totalBindCount == count - count / 1000 - (count % 1000 > 7 ? 1 : 0))
        for k in stride(from: 0, to: count, by: 997) {
            let query = try DecisionQuery(transport: .tcp, direction: .inbound, source: endpoint(Self.peer), destination: bindAddress(k))
            let decision = state.decide(query, now: t0)
            if k % 1000 == 7 {
                #expect(decision.reason == .noBind, "orphan \(k) must not be indexed")
            } else {
                #expect(decision == Decision(verdict: .accept, reason: .allowed, sessionID: "s\(k % 100)", bindID: BindID(rawValue: UInt64(1000 + k))))
            }
        }
        let orphan = try DecisionQuery(transport: .tcp, direction: .inbound, source: endpoint(Self.peer), destination: bindAddress(7))
        #expect(state.decide(orphan, now: t0).reason == .noBind)
    }

    @Test("the exact address is preferred over the wildcard (decisions on a restored state)")
    func exactBeforeWildcardDecision() throws {
        // Live binds never hold both (they conflict), so build the pair as a restore would load it.
        var persisted = PersistedState()
        persisted.sessions = [
            Session(id: "wild", clientAddress: address("10.0.0.1"), clientType: .secureNAT, clientMachineName: nil, user: nil, createdAt: t0, sequence: 1),
            Session(id: "exact", clientAddress: address("10.0.0.2"), clientType: .secureNAT, clientMachineName: nil, user: nil, createdAt: t0, sequence: 2),
        ]
        let grant = BindGrant(protocolGUID: sipGUID, flags: [], ipFilter: nil, allowedAt: t0)
        persisted.binds = [
            Bind(id: BindID(rawValue: 3), sessionID: "wild", transport: .udp, address: endpoint("0.0.0.0:40000"), state: .allowed, grant: grant, createdAt: t0),
            Bind(id: BindID(rawValue: 4), sessionID: "exact", transport: .udp, address: endpoint(Self.bound), createdAt: t0),
        ]
        var state = FirewallState(restoring: persisted)
        let query = try DecisionQuery(transport: .udp, direction: .inbound, source: endpoint(Self.peer), destination: endpoint(Self.bound))
        #expect(state.decide(query, now: t0) == Decision(verdict: .discard, reason: .bindPending, sessionID: "exact", bindID: BindID(rawValue: 4)))
        let other = try DecisionQuery(transport: .udp, direction: .inbound, source: endpoint(Self.peer), destination: endpoint("203.0.113.11:40000"))
        #expect(state.decide(other, now: t0) == Decision(verdict: .accept, reason: .allowed, sessionID: "wild", bindID: BindID(rawValue: 3)))
    }

    // MARK: Counters

    @Test("every decision on a bind counts in its counters")
    func counters() throws {
        var (world, id) = try Self.makeBoundWorld(ipFilter: .inline(rangeSet("198.51.100.0/24")))
        _ = world.state.takeDirtyCounters()
        for _ in 0..<3 { _ = try world.decide(from: Self.peer, to: Self.bound) }
        for _ in 0..<2 { _ = try world.decide(from: "192.0.2.1:1", to: Self.bound) }
        _ = try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer)  // not-bidirectional: a discard
        _ = try world.decide(from: Self.peer, to: "203.0.113.10:1")  // no bind: counted nowhere
        #expect(world.bind(id)?.acceptedCount == 3)
        #expect(world.bind(id)?.discardedCount == 3)
        #expect(world.state.takeDirtyCounters() == [BindCounters(bindID: id, accepted: 3, discarded: 3, lastActiveAt: t0)])
        #expect(world.state.takeDirtyCounters() == [])
    }

    @Test("a counter flush takes at most its limit; the rest wait for the next one")
    func counterFlushLimit() throws {
        var world = try makeWorld()
        try world.makeSession()
        var ids: [BindID] = []
        for port in 40001...40005 { ids.append(try world.makeBind(session: "s1", .udp, "203.0.113.10:\(port)").id) }
        _ = world.state.takeDirtyCounters()
        for port in 40001...40005 { _ = try world.decide(from: Self.peer, to: "203.0.113.10:\(port)") }
        let first = world.state.takeDirtyCounters(limit: 2)
        let second = world.state.takeDirtyCounters(limit: 2)
        let rest = world.state.takeDirtyCounters(limit: 2)
        #expect(first.count == 2 && second.count == 2 && rest.count == 1)
        #expect(Set((first + second + rest).map(\.bindID)) == Set(ids))
        #expect((first + second + rest).allSatisfy { $0.discarded == 1 && $0.accepted == 0 })
        #expect(world.state.takeDirtyCounters(limit: 2) == [])
    }

    @Test("pending and terminating binds count their discards")
    func discardCounters() throws {
        var (world, id) = try Self.makeBoundWorld(allowed: false)
        _ = try world.decide(from: Self.peer, to: Self.bound)
        try world.allow()
        _ = try world.decide(from: Self.peer, to: Self.bound)
        try world.close(id)
        _ = try world.decide(from: Self.peer, to: Self.bound)
        _ = try world.decide(from: Self.peer, to: Self.bound)
        #expect(world.bind(id)?.acceptedCount == 1)
        #expect(world.bind(id)?.discardedCount == 3)
    }

    // MARK: Outbound

    @Test("outbound TCP is rejected when the query is built")
    func outboundTCP() {
        let error = captureError {
            try DecisionQuery(transport: .tcp, direction: .outbound, source: endpoint(Self.bound), destination: endpoint(Self.peer))
        }
        #expect(error?.hresult == .E_INVALIDARG)
        #expect(error?.fieldErrors.map(\.field) == ["direction"])
        for (transport, direction) in [(TransportProtocol.tcp, TrafficDirection.inbound), (.udp, .inbound), (.udp, .outbound)] {
            #expect(captureError {
                try DecisionQuery(transport: transport, direction: direction, source: endpoint(Self.bound), destination: endpoint(Self.peer))
            } == nil)
        }
    }

    @Test("outbound from an allowed bind without bidirectional: not-bidirectional")
    func notBidirectional() throws {
        var (world, id) = try Self.makeBoundWorld(flags: [.increaseReceiveBuffer])
        _ = try world.decide(from: Self.peer, to: Self.bound)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer)
                == Decision(verdict: .discard, reason: .notBidirectional, sessionID: "s1", bindID: id))
    }

    @Test("outbound to a peer that never sent: not-recent-peer")
    func notRecentPeer() throws {
        var (world, id) = try Self.makeBoundWorld(flags: [.bidirectional])
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer)
                == Decision(verdict: .discard, reason: .notRecentPeer, sessionID: "s1", bindID: id))
    }

    @Test("outbound to a peer that just sent: accept, bidirectional-reply")
    func bidirectionalReply() throws {
        var (world, id) = try Self.makeBoundWorld(flags: [.bidirectional])
        _ = try world.decide(from: Self.peer, to: Self.bound)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer)
                == Decision(verdict: .accept, reason: .bidirectionalReply, sessionID: "s1", bindID: id))
        #expect(world.bind(id)?.acceptedCount == 2)
    }

    @Test("outbound reasons before the bind is allowed are the inbound ones")
    func outboundInboundReasons() throws {
        var (world, id) = try Self.makeBoundWorld(allowed: false)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer).reason == .bindPending)
        #expect(try world.decide(.udp, .outbound, from: "203.0.113.10:1", to: Self.peer).reason == .noBind)
        try world.close(id)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer).reason == .bindTerminating)
    }

    @Test("a recent peer is recent for the window (120 s), then not")
    func window() throws {
        var (world, _) = try Self.makeBoundWorld(flags: [.bidirectional])
        world.advance(to: 10)
        _ = try world.decide(from: Self.peer, to: Self.bound)
        world.advance(to: 130)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer).reason == .bidirectionalReply)
        world.advance(to: 130.5)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer).reason == .notRecentPeer)
        // A new datagram from the peer opens the window again.
        _ = try world.decide(from: Self.peer, to: Self.bound)
        world.advance(to: 250)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer).reason == .bidirectionalReply)
    }

    @Test("the window is configurable")
    func configuredWindow() throws {
        var (world, _) = try Self.makeBoundWorld(flags: [.bidirectional], settings: makeSettings { $0.bidirectionalWindowSeconds = 5 })
        _ = try world.decide(from: Self.peer, to: Self.bound)
        world.advance(to: 5)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer).reason == .bidirectionalReply)
        world.advance(to: 5.5)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer).reason == .notRecentPeer)
    }

    @Test(
        "a reply must go to the peer's address and port",
        arguments: [
            ("198.51.100.7:5005", DecisionReason.notRecentPeer),
            ("198.51.100.8:5004", .notRecentPeer),
            ("[::ffff:198.51.100.7]:5004", .bidirectionalReply),
            ("[::ffff:198.51.100.7]:5005", .notRecentPeer),
            ("198.51.100.7:5004", .bidirectionalReply),
        ])
    func addressAndPort(destination: String, reason: DecisionReason) throws {
        var (world, _) = try Self.makeBoundWorld(flags: [.bidirectional])
        _ = try world.decide(from: Self.peer, to: Self.bound)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: destination).reason == reason)
    }

    @Test("a discarded datagram does not make its source a recent peer")
    func discardedIsNotRecent() throws {
        var (world, _) = try Self.makeBoundWorld(flags: [.bidirectional], ipFilter: .inline(rangeSet("192.0.2.0/24")))
        #expect(try world.decide(from: Self.peer, to: Self.bound).reason == .ipFilter)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer).reason == .notRecentPeer)
    }

    @Test("a wildcard bidirectional bind replies from any of its addresses")
    func wildcardReply() throws {
        var world = try makeWorld()
        try world.makeSession()
        let wildcard = try world.makeBind(session: "s1", .udp, "0.0.0.0:40000")
        try world.allow(session: "s1", .udp, "0.0.0.0:40000", flags: [.bidirectional])
        _ = try world.decide(from: Self.peer, to: "203.0.113.10:40000")
        #expect(try world.decide(.udp, .outbound, from: "203.0.113.10:40000", to: Self.peer)
                == Decision(verdict: .accept, reason: .bidirectionalReply, sessionID: "s1", bindID: wildcard.id))
    }

    @Test("recent peers are bounded, forgetting the least recently seen")
    func recentPeersBound() {
        var peers = RecentPeers()
        for index in 0..<4 { peers.record(endpoint("198.51.100.\(index + 1):1"), at: t0.adding(Double(index)), capacity: 3) }
        #expect(peers.count == 3)
        #expect(!peers.contains(endpoint("198.51.100.1:1"), at: t0.adding(4), window: 120))
        #expect(peers.contains(endpoint("198.51.100.4:1"), at: t0.adding(4), window: 120))
        #expect(peers.prune(at: t0.adding(122.5), window: 120) == false)
        #expect(peers.count == 1)
        #expect(peers.prune(at: t0.adding(1000), window: 120) == true)
    }

    // MARK: Stored filters

    @Test("a change to a stored filter applies at once to the binds that reference it")
    func storedFilterIsLive() throws {
        var world = try makeWorld()
        try world.makeSession()
        let filter = try world.makeFilter(include: ["198.51.100.0/24"])
        let bind = try world.makeBind()
        try world.allow(ipFilter: .stored(id: filter.id))
        #expect(try world.decide(from: "192.0.2.5:1", to: Self.bound).reason == .ipFilter)

        _ = try world.modifyIPFilter(filter.id, .includeRange(range("192.0.2.0/24")))
        #expect(try world.decide(from: "192.0.2.5:1", to: Self.bound).reason == .allowed)

        _ = try world.modifyIPFilter(filter.id, .excludeRange(range("192.0.2.5")))
        #expect(try world.decide(from: "192.0.2.5:1", to: Self.bound).reason == .ipFilter)
        #expect(try world.decide(from: "192.0.2.6:1", to: Self.bound).reason == .allowed)

        // SetIpFilter lifts or replaces the restriction.
        _ = try world.setIPFilter(sessionID: "s1", bindID: bind.id, filter: nil)
        #expect(try world.decide(from: "192.0.2.5:1", to: Self.bound).reason == .allowed)
        _ = try world.setIPFilter(
            sessionID: "s1", bindID: bind.id, filter: .inline(rangeSet("203.0.113.0/24")))
        #expect(try world.decide(from: "192.0.2.6:1", to: Self.bound).reason == .ipFilter)
    }

    /// API.md: outbound discards with "not-bidirectional or not-recent-peer (or the inbound reasons
    /// above)", and a change to a stored filter "applies to the binds that reference it at once":
    /// a peer removed from the filter gets no more replies, even within its window.
    @Test("a reply to a peer the filter no longer includes is discarded (ip-filter)")
    func replyChecksFilter() throws {
        var world = try makeWorld()
        try world.makeSession()
        let filter = try world.makeFilter(include: ["198.51.100.0/24"])
        try world.makeBind()
        try world.allow(flags: [.bidirectional], ipFilter: .stored(id: filter.id))
        #expect(try world.decide(from: Self.peer, to: Self.bound).reason == .allowed)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer).reason == .bidirectionalReply)

        try world.modifyIPFilter(filter.id, .excludeRange(range("198.51.100.7")))

        #expect(try world.decide(from: Self.peer, to: Self.bound).reason == .ipFilter)
        let reply = try world.decide(.udp, .outbound, from: Self.bound, to: Self.peer)
        #expect(reply.verdict == .discard)
        #expect(reply.reason == .ipFilter)
        // Another peer of the filter that sent still gets replies.
        #expect(try world.decide(from: "198.51.100.8:5004", to: Self.bound).reason == .allowed)
        #expect(try world.decide(.udp, .outbound, from: Self.bound, to: "198.51.100.8:5004").reason == .bidirectionalReply)
    }

    @Test("SetIpFilter on a pending bind is ERROR_INVALID_STATE, on a closed one FWX_E_TERMINATING")
    func setIPFilterStates() throws {
        var world = try makeWorld()
        try world.makeSession()
        let bind = try world.makeBind()
        let pendingError = captureError {
            try world.setIPFilter(sessionID: "s1", bindID: bind.id, filter: nil)
        }
        #expect(pendingError?.hresult == .ERROR_INVALID_STATE)
        try world.close(bind.id)
        let closedError = captureError {
            try world.setIPFilter(sessionID: "s1", bindID: bind.id, filter: nil)
        }
        #expect(closedError?.hresult == .FWX_E_TERMINATING)
        let missing = captureError {
            try world.setIPFilter(sessionID: "s1", bindID: bind.id, filter: .stored(id: "f-404"))
        }
        #expect(missing?.hresult == .ERROR_NOT_FOUND)
        #expect(missing?.fieldErrors.map(\.field) == ["ipFilterId"])
    }
}
