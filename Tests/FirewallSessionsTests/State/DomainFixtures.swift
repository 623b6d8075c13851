import Testing

@testable import FirewallSessions

// Fixtures for the domain tests: `make(...)` functions with defaults, a fake clock, and a twin of
// the durable store that folds `ChangeSet`s into a `PersistedState`, so restore is tested with
// exactly what the state asked to persist.

/// The fake clock's start: 2027-01-15T08:00:00Z. Every deadline in a test is exact from here.
let t0 = Timestamp(seconds: 1_800_000_000)

/// The SIP built-in (the GUID of API.md's RetroactiveAllowBind example).
let sipGUID = BuiltInProtocols.sip.guid
/// The FTP built-in.
let ftpGUID = BuiltInProtocols.ftp.guid
/// A GUID no protocol definition has.
let undefinedGUID = guid("00000000-0000-4000-8000-0000000000ff")

/// Parses a test socket address; a typo traps instead of hiding.
func endpoint(_ text: String) -> SocketAddress {
    guard let value = SocketAddress(text) else { fatalError("bad test socket address \(text)") }
    return value
}

/// Parses a test IP address.
func address(_ text: String) -> IPAddress {
    guard let value = IPAddress(text) else { fatalError("bad test address \(text)") }
    return value
}

/// Parses a test range (`a`, `a/n` or `a-b`).
func range(_ text: String) -> IPRange {
    guard let value = IPRange(text) else { fatalError("bad test range \(text)") }
    return value
}

/// The union of some test ranges.
func rangeSet(_ texts: String...) -> IPRangeSet { IPRangeSet(ranges: texts.map(range)) }

/// Parses a test GUID.
func guid(_ text: String) -> ProtocolGUID {
    guard let value = ProtocolGUID(text) else { fatalError("bad test GUID \(text)") }
    return value
}

/// Alice, a member of FTP Users.
func makeUser(name: String = "CONTOSO\\alice", groups: [String] = ["CONTOSO\\FTP Users"]) -> SessionUser {
    SessionUser(name: name, groups: groups)
}

/// A rule spec; by default one that allows every protocol to every user.
func makeRule(
    name: String = "Allow everything", enabled: Bool = true, action: RuleAction = .allow,
    protocols: RuleProtocols = .any, users: [String] = [AccessRule.allUsers], sourceAddresses: IPRangeSet? = nil,
    position: Int? = nil
) -> RuleSpec {
    RuleSpec(
        name: name, enabled: enabled, action: action, protocols: protocols, users: users,
        sourceAddresses: sourceAddresses, position: position)
}

/// A user-defined protocol definition.
func makeProtocol(
    _ text: String = "11111111-2222-4333-8444-555555555555", name: String = "Game", transport: TransportProtocol = .udp,
    ports: ClosedRange<UInt16> = 27015...27015
) -> ProtocolDefinition {
    ProtocolDefinition(
        guid: guid(text), name: name,
        primaryConnections: [PrimaryConnection(transport: transport, ports: ports, direction: .sendReceive)])
}

/// Settings with some fields changed.
func makeSettings(_ adjust: (inout FirewallSettings) -> Void = { _ in }) -> FirewallSettings {
    var settings = FirewallSettings()
    adjust(&settings)
    return settings
}

/// Runs `body` and returns the `FirewallError` it threw, or nil when it succeeded; any other
/// error is recorded as an issue.
func captureError<Result>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Result
) -> FirewallError? {
    do {
        _ = try body()
        return nil
    } catch let error as FirewallError {
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A state, a fake clock and the changes collected since the last `takeEvents`/`clearChanges`.
struct World: Sendable {
    var state: FirewallState
    var now: Timestamp
    var changes = ChangeSet()
}

/// A world at `t0` whose policy holds `protocols` and `rules` (by default one rule allowing
/// everything to All Users); the setup's own changes are cleared unless `keepSetupChanges`.
func makeWorld(
    settings: FirewallSettings = FirewallSettings(), rules: [RuleSpec] = [makeRule()],
    protocols: [ProtocolDefinition] = [], now: Timestamp = t0, keepSetupChanges: Bool = false
) throws(FirewallError) -> World {
    var world = World(state: FirewallState(settings: settings), now: now)
    for definition in protocols { _ = try world.state.createProtocol(definition, now: now, changes: &world.changes) }
    for rule in rules { _ = try world.state.createRule(rule, now: now, changes: &world.changes) }
    if !keepSetupChanges { world.changes = ChangeSet() }
    return world
}

extension World {
    /// Creates a session (by default `s1`, client 10.1.2.3, user alice).
    @discardableResult
    mutating func makeSession(
        id: String? = "s1", clientAddress: String = "10.1.2.3", clientType: ClientType = .firewallClient,
        user: SessionUser? = makeUser()
    ) throws(FirewallError) -> Session {
        let request = NewSession(id: id, clientAddress: address(clientAddress), clientType: clientType, user: user)
        return try state.createSession(request, now: now, changes: &changes)
    }

    /// Creates a pending bind (by default UDP 203.0.113.10:40000 in `s1`).
    @discardableResult
    mutating func makeBind(
        session: String = "s1", _ transport: TransportProtocol = .udp, _ text: String = "203.0.113.10:40000"
    ) throws(FirewallError) -> Bind {
        try state.createBind(sessionID: session, transport: transport, address: endpoint(text), now: now, changes: &changes)
    }

    /// Calls RetroactiveAllowBind (by default SIP on UDP 203.0.113.10:40000 in `s1`, no flags, no filter).
    @discardableResult
    mutating func allow(
        session: String = "s1", _ transport: TransportProtocol = .udp, _ text: String = "203.0.113.10:40000",
        protocolGUID: ProtocolGUID = sipGUID, flags: [BindFlags] = [], ipFilter: BindIPFilter? = nil
    ) throws(FirewallError) -> RetroactiveAllowBindResult {
        let request = try RetroactiveAllowBindRequest(
            transport: transport, address: endpoint(text), protocolGUID: protocolGUID, flags: flags, ipFilter: ipFilter)
        return try state.retroactiveAllowBind(sessionID: session, request, now: now, changes: &changes)
    }

    /// Closes a bind.
    @discardableResult
    mutating func close(session: String = "s1", _ id: BindID) throws(FirewallError) -> Bind {
        try state.closeBind(sessionID: session, bindID: id, now: now, changes: &changes)
    }

    /// Terminates a session.
    @discardableResult
    mutating func terminate(session: String = "s1") throws(FirewallError) -> Session {
        try state.terminateSession(session, now: now, changes: &changes)
    }

    /// Asks what happens to one packet.
    mutating func decide(
        _ transport: TransportProtocol = .udp, _ direction: TrafficDirection = .inbound, from source: String,
        to destination: String
    ) throws(FirewallError) -> Decision {
        let query = try DecisionQuery(
            transport: transport, direction: direction, source: endpoint(source), destination: endpoint(destination))
        return state.decide(query, now: now)
    }

    /// Creates a stored IP filter.
    mutating func makeFilter(include: [String], exclude: [String] = []) throws(FirewallError) -> StoredIPFilter {
        try state.createIPFilter(include: include.map(range), exclude: exclude.map(range), now: now, changes: &changes)
    }

    /// Adds a rule.
    @discardableResult
    mutating func addRule(_ spec: RuleSpec) throws(FirewallError) -> PositionedRule {
        try state.createRule(spec, now: now, changes: &changes)
    }

    // The state's other operations, with the clock and the change collector filled in. They are
    // methods (one access to the world) so that tests can call them inside closures: a closure
    // that touched `world.state` and `world.changes` at once would be a dynamic exclusivity
    // violation on the captured variable.

    @discardableResult
    mutating func retroactiveAllowBind(sessionID: String, _ request: RetroactiveAllowBindRequest) throws(FirewallError)
        -> RetroactiveAllowBindResult
    {
        try state.retroactiveAllowBind(sessionID: sessionID, request, now: now, changes: &changes)
    }

    @discardableResult
    mutating func setIPFilter(sessionID: String, bindID: BindID, filter: BindIPFilter?) throws(FirewallError) -> Bind {
        try state.setIPFilter(sessionID: sessionID, bindID: bindID, filter: filter, now: now, changes: &changes)
    }

    @discardableResult
    mutating func modifyIPFilter(_ id: String, _ operation: IPFilterOperation) throws(FirewallError) -> StoredIPFilter {
        try state.modifyIPFilter(id, operation, now: now, changes: &changes)
    }

    @discardableResult
    mutating func cloneIPFilter(_ id: String) throws(FirewallError) -> StoredIPFilter {
        try state.cloneIPFilter(id, now: now, changes: &changes)
    }

    mutating func deleteIPFilter(_ id: String) throws(FirewallError) {
        try state.deleteIPFilter(id, changes: &changes)
    }

    @discardableResult
    mutating func replaceRule(_ id: String, _ spec: RuleSpec) throws(FirewallError) -> PositionedRule {
        try state.replaceRule(id, spec, now: now, changes: &changes)
    }

    mutating func deleteRule(_ id: String) throws(FirewallError) {
        try state.deleteRule(id, now: now, changes: &changes)
    }

    @discardableResult
    mutating func createProtocol(_ definition: ProtocolDefinition) throws(FirewallError) -> ProtocolDefinition {
        try state.createProtocol(definition, now: now, changes: &changes)
    }

    @discardableResult
    mutating func replaceProtocol(_ definition: ProtocolDefinition) throws(FirewallError) -> ProtocolDefinition {
        try state.replaceProtocol(definition, now: now, changes: &changes)
    }

    mutating func deleteProtocol(_ guid: ProtocolGUID) throws(FirewallError) {
        try state.deleteProtocol(guid, now: now, changes: &changes)
    }

    /// Moves the fake clock forward and runs the timers that fell due.
    mutating func advance(by seconds: Double) {
        now = now.adding(seconds)
        state.runTimers(now: now, changes: &changes)
    }

    /// Moves the fake clock to `t0 + seconds` and runs the timers that fell due.
    mutating func advance(to secondsAfterT0: Double) {
        now = t0.adding(secondsAfterT0)
        state.runTimers(now: now, changes: &changes)
    }

    /// The kinds of the events since the last call; forgets the collected changes.
    mutating func takeEvents() -> [DomainEvent.Kind] {
        defer { changes = ChangeSet() }
        return changes.events.map(\.kind)
    }

    /// Forgets the collected changes.
    mutating func clearChanges() { changes = ChangeSet() }

    /// The bind, if it still exists in the session.
    func bind(_ id: BindID, session: String = "s1") -> Bind? { state.bind(id, inSession: session) }
}

/// A stand-in for the durable store: applies `StateChange`s as the SQLite store would (upserts and
/// deletes by key) and hands back what a restart would load.
struct StoreTwin {
    var sessions: [String: Session] = [:]
    var binds: [BindID: Bind] = [:]
    var filters: [String: StoredIPFilter] = [:]
    var protocols: [ProtocolGUID: ProtocolDefinition] = [:]
    var rules: [AccessRule] = []
    var metadata: StateMetadata?

    mutating func apply(_ changeSet: ChangeSet) {
        apply(changeSet.changes)
    }

    mutating func apply(_ changes: [StateChange]) {
        for change in changes {
            switch change {
            case .sessionSaved(let session): sessions[session.id] = session
            case .sessionRemoved(let id): sessions[id] = nil
            case .bindSaved(let bind): binds[bind.id] = bind
            case .bindRemoved(let id): binds[id] = nil
            case .bindCounters(let counters):
                for counter in counters {
                    binds[counter.bindID]?.acceptedCount = counter.accepted
                    binds[counter.bindID]?.discardedCount = counter.discarded
                }
            case .filterSaved(let filter): filters[filter.id] = filter
            case .filterRemoved(let id): filters[id] = nil
            case .protocolSaved(let definition): protocols[definition.guid] = definition
            case .protocolRemoved(let guid): protocols[guid] = nil
            case .rulesReplaced(let list): rules = list
            case .metadataSaved(let saved): metadata = saved
            case .alreadyStored(let stored): apply(stored)
            case .bindsHandedOver, .auditRecorded: break
            }
        }
    }

    /// What a restart loads (in scrambled order: the restore must not depend on it).
    var persisted: PersistedState {
        var state = PersistedState()
        state.sessions = sessions.values.sorted { $0.sequence > $1.sequence }
        state.binds = binds.values.sorted { $0.id > $1.id }
        state.filters = Array(filters.values)
        state.protocols = Array(protocols.values)
        state.rules = rules
        state.metadata = metadata
        return state
    }
}
