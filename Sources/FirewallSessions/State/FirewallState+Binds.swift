extension FirewallState {
    /// Records a client's bind as pending: the Firewall service never fails a bind for policy
    /// reasons, it discards traffic until RetroactiveAllowBind approves it.
    ///
    /// Checks, in order: the session exists (ERROR_NOT_FOUND), is active (FWX_E_TERMINATING), the
    /// address is free (WSAEADDRINUSE naming the holder), the quotas (FWX_E_IS_BUSY).
    public mutating func createBind(
        sessionID: String, transport: TransportProtocol, address: SocketAddress, now: Timestamp,
        changes: inout ChangeSet, id reservedID: BindID? = nil
    ) throws(FirewallError) -> Bind {
        try checkNewBind(sessionID: sessionID, transport: transport, address: address)
        let bind = Bind(
            id: reservedID ?? BindID(rawValue: nextSequence()), sessionID: sessionID, transport: transport, address: address,
            createdAt: now)
        insertBind(bind)
        changes.changes.append(.bindSaved(bind))
        changes.changes.append(.metadataSaved(metadata))
        changes.events.append(DomainEvent(kind: .bindCreated, sessionID: sessionID, bind: bind))
        touchSession(sessionID, now: now, changes: &changes)
        return bind
    }

    /// The checks of `createBind`, without creating: the session exists and is active, the address
    /// is free here, the quotas leave room.
    public func checkNewBind(sessionID: String, transport: TransportProtocol, address: SocketAddress) throws(FirewallError) {
        guard let session = sessions[sessionID] else { throw .notFound("session", sessionID) }
        guard session.state == .active else {
            throw FirewallError(.FWX_E_TERMINATING, "session '\(sessionID)' is terminating")
        }
        if let holderID = bindIndex.conflict(transport, address), let holder = binds[holderID] {
            throw FirewallError(
                .WSAEADDRINUSE, "\(transport.rawValue) \(address) is already bound by bind \(holderID) of session '\(holder.sessionID)'",
                conflict: BindReference(sessionID: holder.sessionID, bindID: holderID))
        }
        guard session.pendingBindCount < settings.maxPendingBindsPerSession else {
            throw FirewallError(
                .FWX_E_IS_BUSY, "session '\(sessionID)' has \(settings.maxPendingBindsPerSession) pending binds, its limit",
                retryAfterSeconds: settings.quotaRetryAfterSeconds)
        }
        guard binds.count < settings.maxBinds else {
            throw FirewallError(.FWX_E_IS_BUSY, "the limit of \(settings.maxBinds) binds is reached",
                                retryAfterSeconds: settings.quotaRetryAfterSeconds)
        }
    }

    /// The client closed the socket: the bind becomes terminating and is purged after the grace
    /// period. Already terminating (or its session is) is FWX_E_TERMINATING.
    public mutating func closeBind(sessionID: String, bindID: BindID, now: Timestamp, changes: inout ChangeSet)
        throws(FirewallError) -> Bind
    {
        guard sessions[sessionID] != nil else { throw .notFound("session", sessionID) }
        guard var bind = bind(bindID, inSession: sessionID) else { throw .notFound("bind", bindID.description) }
        guard bind.state != .terminating else {
            throw FirewallError(.FWX_E_TERMINATING, "bind \(bindID) is terminating")
        }
        transition(&bind, to: .terminating, now: now)
        changes.changes.append(.bindSaved(bind))
        changes.events.append(DomainEvent(kind: .bindTerminating, sessionID: sessionID, bind: bind))
        touchSession(sessionID, now: now, changes: &changes)
        return bind
    }

    /// A page of a session's binds in creation order, optionally only those in one state.
    public func listBinds(sessionID: String, state: BindState?, page: PageRequest) throws(FirewallError) -> Page<Bind> {
        guard let session = sessions[sessionID] else { throw .notFound("session", sessionID) }
        var items: [Bind] = []
        var last: BindID?
        let start = page.after.map { after in session.bindIDs.partitioningIndex { $0.rawValue > after } } ?? 0
        for id in session.bindIDs[start...] {
            guard let bind = binds[id], state == nil || bind.state == state else { continue }
            if items.count == page.limit { return Page(items: items, nextCursor: last.map { PageRequest.cursor($0.rawValue) }) }
            items.append(bind)
            last = id
        }
        return Page(items: items, nextCursor: nil)
    }

    /// Who holds an address: the bind on exactly `address` and the wildcard bind on its port (for a
    /// wildcard address, every bind on the port), of `transport` or of both, in any session, by id.
    /// Hash lookups in the address index, no scan.
    public func binds(holding address: SocketAddress, transport: TransportProtocol?) -> [Bind] {
        var ids: [BindID] = []
        for protocolKind in transport.map({ [$0] }) ?? TransportProtocol.allCases {
            if address.isWildcard {
                ids += bindIndex.onPort(protocolKind, family: address.ip.family, port: address.port)
            } else {
                ids += [bindIndex.exact(protocolKind, address), bindIndex.wildcard(protocolKind, for: address)].compactMap { $0 }
            }
        }
        return Set(ids).compactMap { binds[$0] }.sorted { $0.id < $1.id }
    }

    /// IFWXConnection::SetIpFilter: sets, replaces or (nil) lifts an allowed bind's restriction.
    /// A pending bind has nothing to restrict yet: ERROR_INVALID_STATE.
    public mutating func setIPFilter(
        sessionID: String, bindID: BindID, filter: BindIPFilter?, now: Timestamp, changes: inout ChangeSet
    ) throws(FirewallError) -> Bind {
        if case .stored(let filterID) = filter, filters[filterID] == nil {
            throw FirewallError(.ERROR_NOT_FOUND, "no IP filter with id '\(filterID)'",
                                fieldErrors: [FieldError(field: "ipFilterId", reason: "names no IP filter")])
        }
        guard sessions[sessionID] != nil else { throw .notFound("session", sessionID) }
        guard var bind = bind(bindID, inSession: sessionID) else { throw .notFound("bind", bindID.description) }
        switch bind.state {
        case .terminating:
            throw FirewallError(.FWX_E_TERMINATING, "bind \(bindID) is terminating")
        case .pending:
            throw FirewallError(.ERROR_INVALID_STATE, "bind \(bindID) is pending; an IP filter applies to allowed binds")
        case .allowed:
            break
        }
        releaseGrant(bind.grant)
        bind.grant?.ipFilter = filter
        retainGrant(bind.grant)
        binds[bindID] = bind
        changes.changes.append(.bindSaved(bind))
        touchSession(sessionID, now: now, changes: &changes)
        return bind
    }

    /// Removes a pending bind nobody approved in time.
    mutating func expirePendingBind(_ id: BindID, changes: inout ChangeSet) {
        guard let bind = binds[id] else { return }
        deleteBind(id)
        changes.changes.append(.bindRemoved(id))
        changes.events.append(DomainEvent(kind: .bindExpired, sessionID: bind.sessionID, bind: bind))
    }

    /// Removes a terminating bind for good.
    mutating func purgeBind(_ id: BindID, changes: inout ChangeSet) {
        guard let bind = binds[id] else { return }
        deleteBind(id)
        changes.changes.append(.bindRemoved(id))
        changes.events.append(DomainEvent(kind: .bindRemoved, sessionID: bind.sessionID, bind: bind))
    }
}

extension Collection {
    /// The first index whose element satisfies `predicate`, for a collection partitioned so that
    /// every element that does follows every one that does not (binary search).
    func partitioningIndex(where predicate: (Element) -> Bool) -> Index {
        var low = startIndex
        var count = self.count
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if predicate(self[middle]) {
                count = half
            } else {
                low = index(after: middle)
                count -= half + 1
            }
        }
        return low
    }
}
