/// What a client sends to create a session.
public struct NewSession: Sendable, Equatable {
    /// A client-chosen id, or nil to have one generated.
    public var id: String?
    /// The client's address.
    public var clientAddress: IPAddress
    /// How the client reaches the gateway.
    public var clientType: ClientType
    /// Only firewall clients send one.
    public var clientMachineName: String?
    /// Nil for an unauthenticated session.
    public var user: SessionUser?

    /// Creates a request.
    public init(
        id: String? = nil, clientAddress: IPAddress, clientType: ClientType = .firewallClient,
        clientMachineName: String? = nil, user: SessionUser? = nil
    ) {
        self.id = id
        self.clientAddress = clientAddress
        self.clientType = clientType
        self.clientMachineName = clientMachineName
        self.user = user
    }

    /// What the request alone decides: a client-chosen id is `[A-Za-z0-9._-]{1,64}`.
    public func validate() throws(FirewallError) {
        if let id, !Session.isValidID(id) { throw .invalid("id", "must match [A-Za-z0-9._-]{1,64}") }
    }
}

/// Filters of `GET /sessions`.
public struct SessionFilter: Sendable, Equatable {
    /// Only sessions in this state.
    public var state: SessionState?
    /// Only sessions whose user name is this (case-insensitive).
    public var user: String?
    /// Only sessions whose client address is in this range.
    public var clientAddress: IPRange?

    /// Creates a filter; nil fields match everything.
    public init(state: SessionState? = nil, user: String? = nil, clientAddress: IPRange? = nil) {
        self.state = state
        self.user = user
        self.clientAddress = clientAddress
    }

    func matches(_ session: Session) -> Bool {
        if let state, session.state != state { return false }
        if let clientAddress, !clientAddress.contains(session.clientAddress) { return false }
        if let user {
            guard let name = session.user?.name, name.caseInsensitiveEquals(user) else { return false }
        }
        return true
    }
}

extension FirewallState {
    /// Creates a session. A taken id is FWX_E_ALREADY_EXISTS; past the quota, FWX_E_IS_BUSY.
    public mutating func createSession(_ request: NewSession, now: Timestamp, changes: inout ChangeSet) throws(FirewallError)
        -> Session
    {
        try request.validate()
        if let id = request.id {
            guard sessions[id] == nil else {
                throw FirewallError(.FWX_E_ALREADY_EXISTS, "a session with id '\(id)' exists")
            }
        }
        guard sessions.count < settings.maxSessions else {
            throw FirewallError(.FWX_E_IS_BUSY, "the limit of \(settings.maxSessions) sessions is reached",
                                retryAfterSeconds: settings.quotaRetryAfterSeconds)
        }
        let sequence = nextSequence()
        var id = request.id ?? "s-\(sequence)"
        while sessions[id] != nil { id = "s-\(nextSequence())" }
        let session = Session(
            id: id, clientAddress: request.clientAddress, clientType: request.clientType,
            clientMachineName: request.clientMachineName, user: request.user, createdAt: now, sequence: sequence,
            expiresAt: settings.sessionIdleTimeoutSeconds.map { now.adding($0) })
        sessions[id] = session
        sessionOrder.append(id, sequence: sequence)
        scheduleSessionExpiry(session)
        sessionCounts[.active, default: 0] += 1
        changes.changes.append(.sessionSaved(session))
        changes.changes.append(.metadataSaved(metadata))
        changes.events.append(DomainEvent(kind: .sessionCreated, sessionID: id, session: session))
        return session
    }

    /// Starts ending a session: it and all its binds become terminating and are purged after the
    /// grace period. A session already terminating is FWX_E_TERMINATING.
    public mutating func terminateSession(_ id: String, now: Timestamp, changes: inout ChangeSet) throws(FirewallError)
        -> Session
    {
        try endSession(id, now: now, changes: &changes, event: .sessionTerminating)
    }

    /// Ends a session and its binds (deleted: `session.terminating`; idle: `session.expired`).
    mutating func endSession(_ id: String, now: Timestamp, changes: inout ChangeSet, event: DomainEvent.Kind)
        throws(FirewallError) -> Session
    {
        guard var session = sessions[id] else { throw .notFound("session", id) }
        guard session.state == .active else {
            throw FirewallError(.FWX_E_TERMINATING, "session '\(id)' is terminating")
        }
        session.state = .terminating
        session.terminatingAt = now
        session.expiresAt = nil
        timers.forget(.expireIdleSession(id))
        sessionCounts[.active, default: 0] -= 1
        sessionCounts[.terminating, default: 0] += 1
        sessions[id] = session
        timers.schedule(.purgeSession(id), at: now.adding(settings.gracePeriodSeconds))
        changes.changes.append(.sessionSaved(session))
        changes.events.append(DomainEvent(kind: event, sessionID: id, session: session))
        for bindID in session.bindIDs {
            guard var bind = binds[bindID], bind.state != .terminating else { continue }
            transition(&bind, to: .terminating, now: now)
            changes.changes.append(.bindSaved(bind))
            changes.events.append(DomainEvent(kind: .bindTerminating, sessionID: id, bind: bind))
        }
        return sessions[id] ?? session
    }

    /// A page of sessions in creation order.
    public func listSessions(_ filter: SessionFilter, page: PageRequest) -> Page<Session> {
        let found = sessionOrder.page(after: page.after, limit: page.limit) { id in
            sessions[id].map(filter.matches) ?? false
        }
        return Page(items: found.keys.compactMap { sessions[$0] }, nextCursor: found.next.map(PageRequest.cursor))
    }

    /// Removes a terminating session and its binds for good (the grace period is over).
    mutating func purgeSession(_ id: String, changes: inout ChangeSet) {
        guard let session = sessions[id] else { return }
        for bindID in session.bindIDs {
            guard let bind = binds[bindID] else { continue }
            deleteBind(bindID)
            changes.changes.append(.bindRemoved(bindID))
            changes.events.append(DomainEvent(kind: .bindRemoved, sessionID: id, bind: bind))
        }
        sessions[id] = nil
        timers.forget(.expireIdleSession(id))
        sessionOrder.remove(sequence: session.sequence)
        sessionCounts[session.state, default: 0] -= 1
        changes.changes.append(.sessionRemoved(id: id))
        changes.events.append(DomainEvent(kind: .sessionRemoved, sessionID: id, session: session))
    }
}
