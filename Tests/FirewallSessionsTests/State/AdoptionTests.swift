import Testing

@testable import FirewallSessions

/// Taking over another node's sessions and binds (an array node's adoption).
@Suite("Adoption")
struct AdoptionTests {
    @Test("adopted rows are recorded as already stored (the adoption moved them), revocations as plain saves")
    func adoptedRowsAreAlreadyStored() throws {
        var dead = try makeWorld()
        try dead.makeSession()
        let pending = try dead.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        try dead.makeBind(session: "s1", .udp, "203.0.113.10:40002")
        guard let allowed = try dead.allow(session: "s1", .udp, "203.0.113.10:40002").binds.first else {
            Issue.record("nothing was allowed")
            return
        }
        let snapshot = dead.state.snapshot()
        var rows = ShardRows()
        rows.sessions = snapshot.sessions
        rows.binds = snapshot.binds

        // The adopter's policy allows nothing: the allowed bind is revoked.
        var adopter = try makeWorld(rules: [])
        adopter.state.adopt(rows, now: adopter.now, changes: &adopter.changes)
        guard case .alreadyStored(let stored)? = adopter.changes.changes.first else {
            Issue.record("the adopted rows were not recorded as already stored: \(adopter.changes.changes)")
            return
        }
        let storedBinds = stored.compactMap { change -> BindID? in if case .bindSaved(let bind) = change { bind.id } else { nil } }
        let storedSessions = stored.compactMap { change -> String? in if case .sessionSaved(let session) = change { session.id } else { nil } }
        #expect(storedSessions == ["s1"])
        #expect(Set(storedBinds) == [pending.id, allowed.id])
        let written = adopter.changes.changes.dropFirst().compactMap { change -> Bind? in if case .bindSaved(let bind) = change { bind } else { nil } }
        #expect(written.map(\.id) == [allowed.id] && written.first?.state == .pending, "only the revocation is written")
        #expect(adopter.state.bind(allowed.id, inSession: "s1")?.state == .pending)
    }
}
