extension FirewallState {
    /// What happens to one packet, counted in the deciding bind's counters.
    ///
    /// Inbound: the bind on the destination (exact address, then the wildcard on that port) must
    /// be allowed and its IP filter must include the source. Outbound (UDP): the bind on the source
    /// must be allowed, bidirectional, and the destination (address and port) must have sent to it
    /// within the window. Two hash lookups at most; no scan.
    public mutating func decide(_ query: DecisionQuery, now: Timestamp) -> Decision {
        let bound = query.direction == .inbound ? query.destination : query.source
        let peer = query.direction == .inbound ? query.source : query.destination
        guard let id = bindIndex.lookup(query.transport, bound), let bind = binds[id] else {
            return Decision(verdict: .discard, reason: .noBind)
        }
        let reason = reasonFor(bind, query: query, peer: peer, now: now)
        let accepted = reason == .allowed || reason == .bidirectionalReply
        if settings.decisionsCountTraffic {
            if accepted {
                binds[id]?.acceptedCount &+= 1
                binds[id]?.grant?.lastActiveAt = now
            } else {
                binds[id]?.discardedCount &+= 1
            }
            dirtyCounters.insert(id)
        }
        if accepted, query.direction == .inbound, query.transport == .udp,
            bind.grant?.flags.contains(.bidirectional) == true
        {
            recentPeers[id, default: RecentPeers()].record(peer, at: now, capacity: settings.recentPeersPerBind)
        }
        return Decision(verdict: accepted ? .accept : .discard, reason: reason, sessionID: bind.sessionID, bindID: id)
    }

    private func reasonFor(_ bind: Bind, query: DecisionQuery, peer: SocketAddress, now: Timestamp) -> DecisionReason {
        switch bind.state {
        case .pending: return .bindPending
        case .terminating: return .bindTerminating
        case .allowed: break
        }
        guard let grant = bind.grant else { return .bindPending }
        if query.direction == .outbound {
            guard grant.flags.contains(.bidirectional) else { return .notBidirectional }
            let window = settings.bidirectionalWindowSeconds
            guard recentPeers[bind.id]?.contains(peer, at: now, window: window) == true else { return .notRecentPeer }
        }
        // A reply goes only to a peer the filter still permits (it may have changed since the peer sent).
        if let filter = grant.ipFilter, !permits(filter, peer.ip) { return .ipFilter }
        return query.direction == .outbound ? .bidirectionalReply : .allowed
    }

    private func permits(_ filter: BindIPFilter, _ address: IPAddress) -> Bool {
        switch filter {
        case .inline(let ranges): ranges.contains(address)
        case .stored(let id): filters[id]?.ranges.contains(address) ?? false
        }
    }

    /// Takes counters read elsewhere (the kernel's, with a data plane) as the binds' counters; they
    /// are flushed to the durable store like decision counts. An accepted count that moved (it may
    /// also start over, when the kernel's table was loaded again) is traffic seen `now`, for idle
    /// timeouts.
    public mutating func recordTrafficCounters(_ readings: [BindCounters], now: Timestamp) {
        for reading in readings {
            guard var bind = binds[reading.bindID] else { continue }
            if reading.accepted != bind.acceptedCount { bind.grant?.lastActiveAt = now }
            bind.acceptedCount = reading.accepted
            bind.discardedCount = reading.discarded
            binds[reading.bindID] = bind
            dirtyCounters.insert(reading.bindID)
        }
    }

    /// The counters changed since the last call, for an approximate durable copy: at most `limit`
    /// of them, so one flush never holds the store (or the disk) long; the rest wait for the next.
    public mutating func takeDirtyCounters(limit: Int = .max) -> [BindCounters] {
        let taken = dirtyCounters.count <= limit ? Array(dirtyCounters) : Array(dirtyCounters.prefix(limit))
        if taken.count == dirtyCounters.count {
            dirtyCounters.removeAll(keepingCapacity: true)
        } else {
            for id in taken { dirtyCounters.remove(id) }
        }
        return taken.compactMap { id in
            binds[id].map {
                BindCounters(bindID: id, accepted: $0.acceptedCount, discarded: $0.discardedCount, lastActiveAt: $0.grant?.lastActiveAt)
            }
        }
    }
}
