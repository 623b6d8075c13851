import FirewallSessions

/// Writes one batch of changes as one transaction, with statements prepared once.
final class SQLiteBatchWriter {
    private let connection: SQLiteConnection
    private let saveSession: SQLiteStatement
    private let removeSession: SQLiteStatement
    private let saveBind: SQLiteStatement
    private let removeBind: SQLiteStatement
    private let saveCounters: SQLiteStatement
    private let saveFilter: SQLiteStatement
    private let removeFilter: SQLiteStatement
    private let saveProtocol: SQLiteStatement
    private let removeProtocol: SQLiteStatement
    private let clearRules: SQLiteStatement
    private let saveRule: SQLiteStatement
    private let saveMetadata: SQLiteStatement
    private let saveAudit: SQLiteStatement

    init(connection: SQLiteConnection) throws(PersistenceError) {
        self.connection = connection
        saveSession = try connection.prepare("""
            INSERT OR REPLACE INTO sessions (id, sequence, client_address, client_type, machine_name, user_name,
                user_groups, state, created_at, terminating_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        removeSession = try connection.prepare("DELETE FROM sessions WHERE id = ?")
        saveBind = try connection.prepare("""
            INSERT OR REPLACE INTO binds (id, session_id, protocol, address, state, protocol_guid, flags, ip_filter,
                ip_filter_id, created_at, pending_since, allowed_at, terminating_at, accepted, discarded, expires_at,
                idle_timeout, last_active_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        removeBind = try connection.prepare("DELETE FROM binds WHERE id = ?")
        saveCounters = try connection.prepare(
            "UPDATE binds SET accepted = ?, discarded = ?, last_active_at = coalesce(?, last_active_at) WHERE id = ?")
        saveFilter = try connection.prepare(
            "INSERT OR REPLACE INTO ip_filters (id, sequence, ranges, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
        removeFilter = try connection.prepare("DELETE FROM ip_filters WHERE id = ?")
        saveProtocol = try connection.prepare(
            "INSERT OR REPLACE INTO protocols (guid, name, primary_connections) VALUES (?, ?, ?)")
        removeProtocol = try connection.prepare("DELETE FROM protocols WHERE guid = ?")
        clearRules = try connection.prepare("DELETE FROM rules")
        saveRule = try connection.prepare("""
            INSERT INTO rules (id, position, name, enabled, action, protocols, users, source_addresses)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        saveMetadata = try connection.prepare("INSERT OR REPLACE INTO metadata (key, value) VALUES (?, ?)")
        saveAudit = try connection.prepare("""
            INSERT INTO audit (record_key, time, action, token, request_id, session_id, bind_id, hresult, details)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    /// Writes `changes` in one transaction; on failure nothing of it is kept.
    func write(_ changes: [StateChange]) throws(PersistenceError) {
        try connection.execute("BEGIN IMMEDIATE")
        do {
            var metadata: StateMetadata?
            for change in changes {
                if case .metadataSaved(let latest) = change {
                    metadata = latest
                } else {
                    try apply(change)
                }
            }
            if let metadata {
                try saveMetadata.run([.text("policy_version"), .integer(metadata.policyVersion)])
                try saveMetadata.run([.text("last_sequence"), .integer(Int64(bitPattern: metadata.lastSequence))])
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    private func apply(_ change: StateChange) throws(PersistenceError) {
        switch change {
        case .sessionSaved(let session):
            try saveSession.run([
                .text(session.id), .integer(Int64(bitPattern: session.sequence)),
                .text(session.clientAddress.description), .text(session.clientType.rawValue),
                session.clientMachineName.map { .text($0) }, session.user.map { .text($0.name) },
                session.user.map { .text(RowCoding.jsonText($0.groups)) }, .text(session.state.rawValue),
                .real(session.createdAt.seconds), session.terminatingAt.map { .real($0.seconds) },
                session.expiresAt.map { .real($0.seconds) },
            ])
        case .sessionRemoved(let id):
            try removeSession.run([.text(id)])
        case .bindSaved(let bind):
            try saveBind.run(bindRow(bind))
        case .bindRemoved(let id):
            try removeBind.run([.integer(Int64(bitPattern: id.rawValue))])
        case .bindCounters(let counters):
            for counter in counters {
                try saveCounters.run([
                    .integer(Int64(bitPattern: counter.accepted)), .integer(Int64(bitPattern: counter.discarded)),
                    counter.lastActiveAt.map { .real($0.seconds) }, .integer(Int64(bitPattern: counter.bindID.rawValue)),
                ])
            }
        case .filterSaved(let filter):
            try saveFilter.run([
                .text(filter.id), .integer(Int64(bitPattern: filter.sequence)), .text(RowCoding.text(filter.ranges)),
                .real(filter.createdAt.seconds), .real(filter.updatedAt.seconds),
            ])
        case .filterRemoved(let id):
            try removeFilter.run([.text(id)])
        case .protocolSaved(let definition):
            try saveProtocol.run([
                .text(definition.guid.description), .text(definition.name),
                .text(RowCoding.text(definition.primaryConnections)),
            ])
        case .protocolRemoved(let guid):
            try removeProtocol.run([.text(guid.description)])
        case .rulesReplaced(let rules):
            try clearRules.run([])
            for (index, rule) in rules.enumerated() {
                try saveRule.run([
                    .text(rule.id), .integer(Int64(index + 1)), .text(rule.name), .integer(rule.enabled ? 1 : 0),
                    .text(rule.action.rawValue), .text(RowCoding.text(rule.protocols)),
                    .text(RowCoding.jsonText(rule.users)), rule.sourceAddresses.map { .text(RowCoding.text($0)) },
                ])
            }
        case .auditRecorded(let record):
            // In the batch's transaction: the record holds exactly when the change it records does.
            try saveAudit.run([
                .integer(Int64(bitPattern: record.key)), .real(record.time.seconds), .text(record.action), .text(record.token),
                .text(record.requestID), record.sessionID.map { .text($0) },
                record.bindID.map { .integer(Int64(bitPattern: $0.rawValue)) }, .text(record.hresult),
                .text(AuditDetailsCoding.text(record.details)),
            ])
        case .metadataSaved, .alreadyStored, .bindsHandedOver:
            break
        }
    }

    private func bindRow(_ bind: Bind) -> [SQLiteValue?] {
        var inlineFilter: SQLiteValue?
        var filterID: SQLiteValue?
        switch bind.grant?.ipFilter {
        case .inline(let ranges)?: inlineFilter = .text(RowCoding.text(ranges))
        case .stored(let id)?: filterID = .text(id)
        case nil: break
        }
        return [
            .integer(Int64(bitPattern: bind.id.rawValue)), .text(bind.sessionID), .text(bind.transport.rawValue),
            .text(bind.address.description), .text(bind.state.rawValue),
            bind.grant.map { .text($0.protocolGUID.description) }, bind.grant.map { .integer(Int64($0.flags.rawValue)) },
            inlineFilter, filterID, .real(bind.createdAt.seconds), .real(bind.pendingSince.seconds),
            bind.grant.map { .real($0.allowedAt.seconds) }, bind.terminatingAt.map { .real($0.seconds) },
            .integer(Int64(bitPattern: bind.acceptedCount)), .integer(Int64(bitPattern: bind.discardedCount)),
            bind.grant?.endsAt.map { .real($0.seconds) }, bind.grant?.idleTimeoutSeconds.map { .real($0) },
            bind.grant.map { .real($0.lastActiveAt.seconds) },
        ]
    }
}
