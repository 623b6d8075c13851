/// Approvals and sessions waiting for the kernel's counters before they expire for lack of
/// traffic (only with a data plane: then the kernel, not `/decisions`, sees the traffic).
public struct IdleChecks: Sendable, Equatable {
    /// Approvals whose idle deadline passed (their absolute end had not).
    public var bindIDs: [BindID] = []
    /// Sessions whose idle deadline passed while some of their binds were allowed.
    public var sessionIDs: [String] = []
    /// The allowed binds whose counters the decision needs: the approvals above and those of the sessions.
    public var binds: [Bind] = []

    /// Nothing to check.
    public init() {}

    /// Whether there is nothing to check.
    public var isEmpty: Bool { bindIDs.isEmpty && sessionIDs.isEmpty }
}

/// Lifetimes of approvals and sessions: an approval may end at a fixed time (RetroactiveAllowBind's
/// `lifetimeSeconds`, within the configured limits) and after an idle timeout (no accepted traffic);
/// a session after an idle timeout (no change to it and no traffic on its binds). Expiry goes the
/// normal change path: an expired approval is removed (`bind.expired`), so the data plane closes
/// it; an expired session ends like a deleted one (`session.expired`, then its binds terminate).
///
/// Each approval and session has at most one live timer entry (`TimerQueue.scheduleOnce`): traffic
/// and renewals only move the deadline in the bind or session, and the entry, when due, looks again
/// and queues itself at the new deadline. Nothing on the decision path touches the timers.
extension FirewallState {
    // MARK: Approvals

    /// The grant RetroactiveAllowBind gives now: its lifetime from the request and the settings,
    /// the configured idle timeout, and the idle clock started.
    func grant(for request: RetroactiveAllowBindRequest, now: Timestamp) -> BindGrant {
        BindGrant(
            protocolGUID: request.protocolGUID, flags: request.flags, ipFilter: request.ipFilter, allowedAt: now,
            endsAt: settings.approvalLifetime(requested: request.lifetimeSeconds).map { now.adding($0) },
            idleTimeoutSeconds: settings.approvalIdleTimeoutSeconds, lastActiveAt: now)
    }

    /// RetroactiveAllowBind on binds that are all allowed already (S_FALSE): an approval that has or
    /// gets an end is renewed (its lifetime set as for a new approval, its idle clock restarted);
    /// one that has none and gets none stays as it is, and nothing is written.
    mutating func renewApprovals(_ matched: [Bind], _ request: RetroactiveAllowBindRequest, now: Timestamp, changes: inout ChangeSet)
        -> [Bind]
    {
        let fresh = grant(for: request, now: now)
        return matched.map { bind in
            guard bind.state == .allowed, var grant = bind.grant,
                grant.expiresAt != nil || fresh.expiresAt != nil
            else { return bind }
            grant.endsAt = fresh.endsAt
            grant.idleTimeoutSeconds = fresh.idleTimeoutSeconds
            grant.lastActiveAt = now
            var renewed = bind
            renewed.grant = grant
            binds[bind.id] = renewed
            scheduleApprovalExpiry(renewed)
            changes.changes.append(.bindSaved(renewed))
            return renewed
        }
    }

    /// Queues the expiry of an allowed bind's approval.
    mutating func scheduleApprovalExpiry(_ bind: Bind) {
        guard bind.state == .allowed, let deadline = bind.grant?.expiresAt else { return }
        timers.scheduleOnce(.expireApproval(bind.id), at: deadline)
    }

    /// An approval's entry is due: expire it, queue it again at a deadline that moved, or (idle,
    /// with a data plane) hold it for a reading of the kernel's counters.
    mutating func approvalTimerFired(_ id: BindID, now: Timestamp, changes: inout ChangeSet) {
        guard let bind = binds[id], bind.state == .allowed, let grant = bind.grant, let expiresAt = grant.expiresAt else { return }
        if expiresAt > now {
            scheduleApprovalExpiry(bind)
        } else if !settings.decisionsCountTraffic && (grant.endsAt.map { $0 > now } ?? true) {
            idleChecks.bindIDs.append(id)
            idleChecks.binds.append(bind)
        } else {
            expireApproval(id, changes: &changes)
        }
    }

    /// Removes an allowed bind whose approval ran out, the way an unapproved pending bind goes.
    mutating func expireApproval(_ id: BindID, changes: inout ChangeSet) {
        guard let bind = binds[id] else { return }
        deleteBind(id)
        changes.changes.append(.bindRemoved(id))
        changes.events.append(DomainEvent(kind: .bindExpired, sessionID: bind.sessionID, bind: bind))
    }

    // MARK: Sessions

    /// Restarts a session's idle clock (a change to it or its binds).
    mutating func touchSession(_ id: String, now: Timestamp, changes: inout ChangeSet) {
        guard let idle = settings.sessionIdleTimeoutSeconds, var session = sessions[id], session.state == .active else { return }
        session.expiresAt = now.adding(idle)
        sessions[id] = session
        scheduleSessionExpiry(session)
        changes.changes.append(.sessionSaved(session))
    }

    /// Queues a session's idle expiry.
    mutating func scheduleSessionExpiry(_ session: Session) {
        guard session.state == .active, let deadline = session.expiresAt else { return }
        timers.scheduleOnce(.expireIdleSession(session.id), at: deadline)
    }

    /// A session's entry is due: traffic its binds accepted since moves the deadline on; with a
    /// data plane the kernel's counters of its allowed binds are read first; else it expires.
    mutating func sessionTimerFired(_ id: String, now: Timestamp, changes: inout ChangeSet) {
        guard var session = sessions[id], session.state == .active, let expiresAt = session.expiresAt else { return }
        if expiresAt > now {
            scheduleSessionExpiry(session)
            return
        }
        if let moved = sessionDeadlineFromTraffic(session), moved > now {
            session.expiresAt = moved
            sessions[id] = session
            scheduleSessionExpiry(session)
            changes.changes.append(.sessionSaved(session))
            return
        }
        let allowed = session.bindIDs.compactMap { binds[$0] }.filter { $0.state == .allowed }
        if !settings.decisionsCountTraffic && !allowed.isEmpty {
            idleChecks.sessionIDs.append(id)
            idleChecks.binds += allowed
            return
        }
        _ = try? endSession(id, now: now, changes: &changes, event: .sessionExpired)
    }

    /// The idle deadline the latest accepted traffic on a session's allowed binds gives, if any.
    private func sessionDeadlineFromTraffic(_ session: Session) -> Timestamp? {
        guard let idle = settings.sessionIdleTimeoutSeconds else { return nil }
        let latest = session.bindIDs.compactMap { binds[$0]?.grant?.lastActiveAt }.max()
        return latest.map { $0.adding(idle) }
    }

    // MARK: With a data plane

    /// The approvals and sessions that wait for the kernel's counters (the caller reads the
    /// counters of `binds` and hands them to `confirmIdle`).
    public mutating func takeIdleChecks() -> IdleChecks {
        defer { idleChecks = IdleChecks() }
        return idleChecks
    }

    /// Takes the fresh readings (traffic seen since the last one counts as activity now), then
    /// expires what is still idle and queues the rest at its new deadline.
    public mutating func confirmIdle(_ checks: IdleChecks, readings: [BindCounters], now: Timestamp, changes: inout ChangeSet) {
        recordTrafficCounters(readings, now: now)
        for id in checks.bindIDs {
            guard let bind = binds[id], bind.state == .allowed, let expiresAt = bind.grant?.expiresAt else { continue }
            if expiresAt > now { scheduleApprovalExpiry(bind) } else { expireApproval(id, changes: &changes) }
        }
        for id in checks.sessionIDs {
            guard var session = sessions[id], session.state == .active else { continue }
            if let moved = sessionDeadlineFromTraffic(session), moved > now, moved > (session.expiresAt ?? moved) {
                session.expiresAt = moved
                sessions[id] = session
                changes.changes.append(.sessionSaved(session))
            }
            if let expiresAt = session.expiresAt, expiresAt > now {
                scheduleSessionExpiry(session)
            } else {
                _ = try? endSession(id, now: now, changes: &changes, event: .sessionExpired)
            }
        }
    }
}
