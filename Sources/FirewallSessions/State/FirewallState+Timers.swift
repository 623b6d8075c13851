extension FirewallState {
    /// Runs every timer due at `now`: expires pending binds nobody approved, approvals and sessions
    /// whose lifetime or idle timeout ran out, and purges terminating binds and sessions whose grace
    /// period is over. Entries whose object changed since they were queued (approved, closed,
    /// renewed, already purged) are dropped here.
    public mutating func runTimers(now: Timestamp, changes: inout ChangeSet) {
        while let entry = timers.popDueEntry(at: now) {
            switch entry.action {
            case .expireApproval(let id):
                guard timers.takeLive(entry) else { continue }
                approvalTimerFired(id, now: now, changes: &changes)
            case .expireIdleSession(let id):
                guard timers.takeLive(entry) else { continue }
                sessionTimerFired(id, now: now, changes: &changes)
            case .expirePendingBind(let id):
                guard let bind = binds[id], bind.state == .pending,
                    bind.pendingSince.adding(settings.pendingTimeoutSeconds) <= now
                else { continue }
                expirePendingBind(id, changes: &changes)
            case .purgeBind(let id):
                guard let bind = binds[id], bind.state == .terminating,
                    let since = bind.terminatingAt, since.adding(settings.gracePeriodSeconds) <= now
                else { continue }
                purgeBind(id, changes: &changes)
            case .purgeSession(let id):
                guard let session = sessions[id], session.state == .terminating,
                    let since = session.terminatingAt, since.adding(settings.gracePeriodSeconds) <= now
                else { continue }
                purgeSession(id, changes: &changes)
            }
        }
    }

    /// Forgets recent peers older than the bidirectional window, so the peer table stays bounded
    /// by live traffic rather than by history.
    public mutating func pruneRecentPeers(now: Timestamp) {
        let window = settings.bidirectionalWindowSeconds
        for id in Array(recentPeers.keys) {
            if recentPeers[id]?.prune(at: now, window: window) == true { recentPeers[id] = nil }
        }
    }
}
