import FirewallSessions

/// Session and bind rows as the array's tables hold them (the same columns and text forms as the
/// SQLite store, plus the shard and revision), in both directions.
enum PGRowCoding {
    static let sessionColumns =
        "id, sequence, client_address, client_type, machine_name, user_name, user_groups, state, created_at, terminating_at, expires_at"
    static let bindColumns = """
        id, session_id, protocol, address, state, protocol_guid, flags, ip_filter, ip_filter_id, created_at, \
        pending_since, allowed_at, terminating_at, accepted, discarded, expires_at, idle_timeout, last_active_at
        """

    static func number(_ value: Double) -> String { String(value) }

    /// The parameters of a session row after (shard) in `sessionColumns` order.
    static func parameters(_ session: Session) -> [String?] {
        [
            session.id, String(session.sequence), session.clientAddress.description, session.clientType.rawValue,
            session.clientMachineName, session.user?.name, session.user.map { RowCoding.jsonText($0.groups) },
            session.state.rawValue, number(session.createdAt.seconds), session.terminatingAt.map { number($0.seconds) },
            session.expiresAt.map { number($0.seconds) },
        ]
    }

    /// The parameters of a bind row in `bindColumns` order.
    static func parameters(_ bind: Bind) -> [String?] {
        var inline: String?
        var stored: String?
        switch bind.grant?.ipFilter {
        case .inline(let ranges)?: inline = RowCoding.text(ranges)
        case .stored(let id)?: stored = id
        case nil: break
        }
        return [
            String(bind.id.rawValue), bind.sessionID, bind.transport.rawValue, bind.address.description, bind.state.rawValue,
            bind.grant?.protocolGUID.description, bind.grant.map { String($0.flags.rawValue) }, inline, stored,
            number(bind.createdAt.seconds), number(bind.pendingSince.seconds), bind.grant.map { number($0.allowedAt.seconds) },
            bind.terminatingAt.map { number($0.seconds) }, String(bind.acceptedCount), String(bind.discardedCount),
            bind.grant?.endsAt.map { number($0.seconds) }, bind.grant?.idleTimeoutSeconds.map(number),
            bind.grant.map { number($0.lastActiveAt.seconds) },
        ]
    }

    static func session(_ row: [String?]) throws(PersistenceError) -> Session {
        guard row.count >= 10, let id = row[0], let sequence = row[1].flatMap({ UInt64($0) }),
            let clientType = row[3].flatMap(ClientType.init(rawValue:)), let state = row[7].flatMap(SessionState.init(rawValue:)),
            let created = row[8].flatMap({ Double($0) })
        else { throw PersistenceError("stored session row is incomplete") }
        var user: SessionUser?
        if let name = row[5] { user = SessionUser(name: name, groups: try RowCoding.strings(row[6] ?? "[]", "session groups")) }
        return Session(
            id: id, clientAddress: try RowCoding.ipAddress(row[2] ?? ""), clientType: clientType, clientMachineName: row[4],
            user: user, state: state, createdAt: Timestamp(seconds: created),
            terminatingAt: row[9].flatMap { Double($0) }.map(Timestamp.init(seconds:)), sequence: sequence,
            expiresAt: column(row, 10).map(Timestamp.init(seconds:)))
    }

    static func bind(_ row: [String?]) throws(PersistenceError) -> Bind {
        guard row.count >= 15, let id = row[0].flatMap({ UInt64($0) }), let sessionID = row[1],
            let transport = row[2].flatMap(TransportProtocol.init(rawValue:)), let state = row[4].flatMap(BindState.init(rawValue:)),
            let created = row[9].flatMap({ Double($0) }), let pendingSince = row[10].flatMap({ Double($0) })
        else { throw PersistenceError("stored bind row is incomplete") }
        var grant: BindGrant?
        if let guidText = row[5] {
            guard let guid = ProtocolGUID(guidText) else { throw PersistenceError("stored bind has a bad GUID") }
            var filter: BindIPFilter?
            if let inline = row[7] {
                filter = .inline(try RowCoding.ranges(inline, "bind filter"))
            } else if let filterID = row[8] {
                filter = .stored(id: filterID)
            }
            grant = BindGrant(
                protocolGUID: guid, flags: BindFlags(rawValue: UInt8(truncatingIfNeeded: Int(row[6] ?? "0") ?? 0)),
                ipFilter: filter, allowedAt: Timestamp(seconds: row[11].flatMap { Double($0) } ?? created),
                endsAt: column(row, 15).map(Timestamp.init(seconds:)), idleTimeoutSeconds: column(row, 16),
                lastActiveAt: column(row, 17).map(Timestamp.init(seconds:)))
        }
        return Bind(
            id: BindID(rawValue: id), sessionID: sessionID, transport: transport, address: try RowCoding.socketAddress(row[3] ?? ""),
            state: state, grant: state == .allowed ? grant : nil, createdAt: Timestamp(seconds: created),
            pendingSince: Timestamp(seconds: pendingSince), terminatingAt: row[12].flatMap { Double($0) }.map(Timestamp.init(seconds:)),
            acceptedCount: row[13].flatMap { UInt64($0) } ?? 0, discardedCount: row[14].flatMap { UInt64($0) } ?? 0)
    }

    /// A number column that may be null (or missing from a shorter row).
    private static func column(_ row: [String?], _ index: Int) -> Double? {
        index < row.count ? row[index].flatMap { Double($0) } : nil
    }

    static func rule(_ row: [String?]) throws(PersistenceError) -> AccessRule {
        guard row.count >= 7, let id = row[0], let name = row[1], let action = row[3].flatMap(RuleAction.init(rawValue:)) else {
            throw PersistenceError("stored rule row is incomplete")
        }
        return AccessRule(
            id: id, name: name, enabled: row[2] == "t", action: action, protocols: try RowCoding.ruleProtocols(row[4] ?? ""),
            users: try RowCoding.strings(row[5] ?? "[]", "rule users"),
            sourceAddresses: try row[6].map { text throws(PersistenceError) in try RowCoding.ranges(text, "rule sources") })
    }

    static func parameters(_ rule: AccessRule, position: Int) -> [String?] {
        [
            rule.id, String(position), rule.name, rule.enabled ? "t" : "f", rule.action.rawValue, RowCoding.text(rule.protocols),
            RowCoding.jsonText(rule.users), rule.sourceAddresses.map(RowCoding.text),
        ]
    }

    static func protocolDefinition(_ row: [String?]) throws(PersistenceError) -> ProtocolDefinition {
        guard row.count >= 3, let guid = row[0].flatMap(ProtocolGUID.init), let name = row[1] else {
            throw PersistenceError("stored protocol row is incomplete")
        }
        return ProtocolDefinition(guid: guid, name: name, primaryConnections: try RowCoding.primaryConnections(row[2] ?? ""))
    }

    static func filter(_ row: [String?]) throws(PersistenceError) -> StoredIPFilter {
        guard row.count >= 5, let id = row[0], let sequence = row[1].flatMap({ UInt64($0) }),
            let created = row[3].flatMap({ Double($0) }), let updated = row[4].flatMap({ Double($0) })
        else { throw PersistenceError("stored IP filter row is incomplete") }
        return StoredIPFilter(
            id: id, ranges: try RowCoding.ranges(row[2] ?? "", "IP filter \(id)"), createdAt: Timestamp(seconds: created),
            updatedAt: Timestamp(seconds: updated), sequence: sequence)
    }

    static func parameters(_ filter: StoredIPFilter) -> [String?] {
        [filter.id, String(filter.sequence), RowCoding.text(filter.ranges), number(filter.createdAt.seconds), number(filter.updatedAt.seconds)]
    }
}
