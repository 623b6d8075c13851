import FirewallSessions

/// Reads the whole database back into a `PersistedState` at start.
struct SQLiteLoader {
    let connection: SQLiteConnection

    func load() throws(PersistenceError) -> PersistedState {
        var state = PersistedState()
        state.metadata = try loadMetadata()
        state.sessions = try loadSessions()
        state.binds = try loadBinds()
        state.filters = try loadFilters()
        state.protocols = try loadProtocols()
        state.rules = try loadRules()
        return state
    }

    private func loadMetadata() throws(PersistenceError) -> StateMetadata? {
        let query = try connection.prepare("SELECT key, value FROM metadata")
        var metadata = StateMetadata()
        var found = false
        while try query.step() {
            found = true
            switch query.text(0) {
            case "policy_version": metadata.policyVersion = query.int64(1)
            case "last_sequence": metadata.lastSequence = UInt64(bitPattern: query.int64(1))
            default: break
            }
        }
        return found ? metadata : nil
    }

    private func loadSessions() throws(PersistenceError) -> [Session] {
        let query = try connection.prepare("""
            SELECT id, sequence, client_address, client_type, machine_name, user_name, user_groups, state,
                created_at, terminating_at, expires_at FROM sessions
            """)
        var sessions: [Session] = []
        sessions.reserveCapacity(try count("sessions"))
        while try query.step() {
            guard let id = query.text(0), let clientType = query.text(3).flatMap(ClientType.init(rawValue:)),
                let state = query.text(7).flatMap(SessionState.init(rawValue:))
            else { throw PersistenceError("stored session row is incomplete") }
            var user: SessionUser?
            if let name = query.text(5) {
                user = SessionUser(name: name, groups: try RowCoding.strings(query.text(6) ?? "[]", "session groups"))
            }
            sessions.append(Session(
                id: id, clientAddress: try RowCoding.ipAddress(query.text(2) ?? ""), clientType: clientType,
                clientMachineName: query.text(4), user: user, state: state,
                createdAt: Timestamp(seconds: query.double(8)),
                terminatingAt: query.optionalDouble(9).map(Timestamp.init(seconds:)),
                sequence: UInt64(bitPattern: query.int64(1)), expiresAt: query.optionalDouble(10).map(Timestamp.init(seconds:))))
        }
        return sessions
    }

    /// The number of rows of `table` (one of ours, never user input).
    private func count(_ table: StaticString) throws(PersistenceError) -> Int {
        let query = try connection.prepare("SELECT count(*) FROM \(table)")
        return try query.step() ? Int(query.int64(0)) : 0
    }

    private func loadBinds() throws(PersistenceError) -> [Bind] {
        let query = try connection.prepare("""
            SELECT id, session_id, protocol, address, state, protocol_guid, flags, ip_filter, ip_filter_id,
                created_at, pending_since, allowed_at, terminating_at, accepted, discarded, expires_at, idle_timeout,
                last_active_at FROM binds ORDER BY id
            """)
        var binds: [Bind] = []
        // Sized once: appending a million binds one doubling at a time copies them all several times.
        binds.reserveCapacity(try count("binds"))
        while try query.step() {
            guard let sessionID = query.text(1), let transport = query.text(2).flatMap(TransportProtocol.init(rawValue:)),
                let state = query.text(4).flatMap(BindState.init(rawValue:))
            else { throw PersistenceError("stored bind row is incomplete") }
            var grant: BindGrant?
            if let guidText = query.text(5) {
                guard let guid = ProtocolGUID(guidText) else { throw PersistenceError("stored bind has a bad GUID") }
                var filter: BindIPFilter?
                if let inline = query.text(7) {
                    filter = .inline(try RowCoding.ranges(inline, "bind filter"))
                } else if let filterID = query.text(8) {
                    filter = .stored(id: filterID)
                }
                grant = BindGrant(
                    protocolGUID: guid, flags: BindFlags(rawValue: UInt8(truncatingIfNeeded: query.int64(6))),
                    ipFilter: filter, allowedAt: Timestamp(seconds: query.optionalDouble(11) ?? query.double(9)),
                    endsAt: query.optionalDouble(15).map(Timestamp.init(seconds:)), idleTimeoutSeconds: query.optionalDouble(16),
                    lastActiveAt: query.optionalDouble(17).map(Timestamp.init(seconds:)))
            }
            binds.append(Bind(
                id: BindID(rawValue: UInt64(bitPattern: query.int64(0))), sessionID: sessionID, transport: transport,
                address: try RowCoding.socketAddress(query.text(3) ?? ""), state: state,
                grant: state == .allowed ? grant : nil,
                createdAt: Timestamp(seconds: query.double(9)), pendingSince: Timestamp(seconds: query.double(10)),
                terminatingAt: query.optionalDouble(12).map(Timestamp.init(seconds:)),
                acceptedCount: UInt64(bitPattern: query.int64(13)), discardedCount: UInt64(bitPattern: query.int64(14))))
        }
        return binds
    }

    private func loadFilters() throws(PersistenceError) -> [StoredIPFilter] {
        let query = try connection.prepare("SELECT id, sequence, ranges, created_at, updated_at FROM ip_filters")
        var filters: [StoredIPFilter] = []
        while try query.step() {
            guard let id = query.text(0) else { throw PersistenceError("stored IP filter row is incomplete") }
            filters.append(StoredIPFilter(
                id: id, ranges: try RowCoding.ranges(query.text(2) ?? "", "IP filter \(id)"),
                createdAt: Timestamp(seconds: query.double(3)), updatedAt: Timestamp(seconds: query.double(4)),
                sequence: UInt64(bitPattern: query.int64(1))))
        }
        return filters
    }

    private func loadProtocols() throws(PersistenceError) -> [ProtocolDefinition] {
        let query = try connection.prepare("SELECT guid, name, primary_connections FROM protocols")
        var protocols: [ProtocolDefinition] = []
        while try query.step() {
            guard let guid = query.text(0).flatMap(ProtocolGUID.init), let name = query.text(1) else {
                throw PersistenceError("stored protocol row is incomplete")
            }
            protocols.append(ProtocolDefinition(
                guid: guid, name: name, primaryConnections: try RowCoding.primaryConnections(query.text(2) ?? "")))
        }
        return protocols
    }

    private func loadRules() throws(PersistenceError) -> [AccessRule] {
        let query = try connection.prepare("""
            SELECT id, name, enabled, action, protocols, users, source_addresses FROM rules ORDER BY position
            """)
        var rules: [AccessRule] = []
        while try query.step() {
            guard let id = query.text(0), let name = query.text(1),
                let action = query.text(3).flatMap(RuleAction.init(rawValue:))
            else { throw PersistenceError("stored rule row is incomplete") }
            rules.append(AccessRule(
                id: id, name: name, enabled: query.int64(2) != 0, action: action,
                protocols: try RowCoding.ruleProtocols(query.text(4) ?? ""),
                users: try RowCoding.strings(query.text(5) ?? "[]", "rule users"),
                sourceAddresses: try query.text(6).map { text throws(PersistenceError) in try RowCoding.ranges(text, "rule sources") }))
        }
        return rules
    }
}
