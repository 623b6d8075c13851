import EventLoop
import FirewallPipeline
import FirewallSessions
import Logging

/// What the API layer calls: every operation of the control plane, answered only once what it
/// changed (or saw) holds in every sink of the change pipeline (the durable store, the kernel).
///
/// Each call is one hop into `SessionStore` and, when the change is still in flight, one wait for
/// its ticket outside the actor.
public struct FirewallService: Sendable {
    /// The actor that owns the state.
    let store: SessionStore
    private let pipeline: ChangePipeline
    private let traffic: (any TrafficCounterSource)?
    /// The array this node belongs to; nil for a single node (`FirewallService+Array.swift`).
    let array: (any ArrayMembership)?
    /// Where `GET /audit` reads; nil without a durable store (`--store memory`).
    private let auditTrail: (any AuditTrailReader)?

    /// Builds the service over a restored state; every change goes through `sinks` in order
    /// (none: `--store memory`). `listener` hears the published events and the sinks' work.
    /// With `traffic` (the data plane), binds' counters are the packets it counted: answers read
    /// them at once, and its periodic readings become the state's copy; `/decisions` then only
    /// answer and no longer count.
    ///
    /// Restoring a large state blocks for a while (seconds for a million binds, its address index
    /// built on a second thread meanwhile): call this from a thread of your own, not from the
    /// cooperative pool (fwsessiond builds the server on one, `runOnThread`).
    public init(
        restoring persisted: PersistedState = PersistedState(), sinks: [any ChangeSink] = [],
        traffic: (any TrafficCounterSource)? = nil,
        settings: FirewallSettings = FirewallSettings(), logger: Logger,
        clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() },
        listener: (any ChangeListener)? = nil, array: (any ArrayMembership)? = nil, loop: EventLoop? = nil,
        auditTrail: (any AuditTrailReader)? = nil
    ) {
        self.auditTrail = auditTrail
        var settings = settings
        if traffic != nil { settings.decisionsCountTraffic = false }
        self.array = array
        pipeline = ChangePipeline(sinks: sinks, listener: listener, logger: logger)
        // Without a loop of the server's, the state gets a thread of its own.
        let store = SessionStore(
            state: FirewallState(
                restoring: persisted, settings: settings,
                addressIndex: AddressIndexBuild.builder(bindCount: persisted.binds.count)),
            pipeline: pipeline, clock: clock, traffic: traffic, loop: loop ?? EventLoop())
        self.store = store
        self.traffic = traffic
        traffic?.observeCounters { readings in Task { await store.recordTrafficCounters(readings) } }
    }

    /// Brings every sink in line with the restored state (the data plane loads its table), then
    /// starts the pipeline and the timers. Throws when a sink cannot start.
    public func start() async throws(PipelineFailure) {
        let snapshot = pipeline.needsRestoredState ? await store.snapshot() : PersistedState()
        try await pipeline.start(from: snapshot)
        await store.startTimers()
    }

    /// Stops the timers, applies what is queued through every sink and stops the pipeline.
    public func close() async {
        await store.stop()
        await pipeline.close()
        auditTrail?.close()
    }

    /// Nil while every sink applies changes, else the failing one and why (for `/readyz`).
    public var failure: PipelineFailure? { pipeline.failure ?? arrayFailure }

    /// Counts by state and the policy version (for gauges).
    public func statistics() async -> StoreStatistics { await store.statistics() }

    /// Packets the data plane accepted and discarded in all (nil without one).
    public func trafficTotals() -> (accepted: UInt64, discarded: UInt64)? { traffic?.totals() }

    /// Binds as answered: with a data plane, carrying the kernel's counters as they are now.
    private func withTraffic(_ binds: [Bind]) -> [Bind] {
        guard let traffic, !binds.isEmpty else { return binds }
        let read = traffic.counters(of: binds)
        return binds.map { bind in
            guard let counters = read[bind.id] else { return bind }
            var bind = bind
            bind.acceptedCount = counters.accepted
            bind.discardedCount = counters.discarded
            return bind
        }
    }

    private func withTraffic(_ bind: Bind) -> Bind { withTraffic([bind])[0] }

    /// For reads and decisions: waits until what was seen holds everywhere, so nobody is shown a
    /// change that a crash could still undo. While a sink is failing, answers from memory instead:
    /// the data plane keeps getting decisions when the disk is full.
    func visible<T>(_ result: Durable<T>) async -> T {
        try? await pipeline.waitApplied(result.ticket)
        return result.value
    }

    /// For changes: returns only once the change holds in every sink; a failure is 503
    /// ERROR_WRITE_FAULT naming the sink.
    func durable<T>(_ result: Durable<T>) async throws(FirewallError) -> T {
        do {
            try await pipeline.waitApplied(result.ticket)
        } catch {
            throw FirewallError.unavailable(error)
        }
        return result.value
    }

    // MARK: Sessions

    /// Creates a session; `context` (who asks) makes the change's audit record, here and below.
    public func createSession(_ request: NewSession, by context: AuditContext? = nil) async throws(FirewallError) -> Session {
        let audit = AuditIntent<Session>.make(context, "session.create") { session in
            AuditSubject(sessionID: session.id, details: [AuditDetail("clientAddress", .string(session.clientAddress.description))])
        }
        if let array { return try await createSession(request, audit: audit, in: array) }
        return try await durable(store.mutate(audit) { state, now, changes throws(FirewallError) in
            try state.createSession(request, now: now, changes: &changes)
        })
    }

    /// One session.
    public func session(_ id: String) async throws(FirewallError) -> Session {
        await visible(try await store.read({ state throws(FirewallError) in
            guard let session = state.session(id) else { throw .notFound("session", id) }
            return session
        }, orMirrored: { array in array.session(id) }))
    }

    /// A page of sessions.
    public func listSessions(_ filter: SessionFilter, page: PageRequest) async throws(FirewallError) -> Page<Session> {
        await visible(try await store.listArraySessions(filter, page: page))
    }

    /// Starts ending a session and its binds.
    public func terminateSession(_ id: String, by context: AuditContext? = nil) async throws(FirewallError) -> Session {
        let audit = AuditIntent<Session>.make(context, "session.terminate") { AuditSubject(sessionID: $0.id) }
        return try await durable(store.mutate(forSession: id, audit) { state, now, changes throws(FirewallError) in
            try state.terminateSession(id, now: now, changes: &changes)
        })
    }

    // MARK: Binds

    /// Records a pending bind.
    public func createBind(sessionID: String, transport: TransportProtocol, address: SocketAddress, by context: AuditContext? = nil)
        async throws(FirewallError) -> Bind
    {
        let audit = AuditIntent<Bind>.make(context, "bind.create") { bind in
            AuditSubject(sessionID: bind.sessionID, bindID: bind.id, details: [
                AuditDetail("protocol", .string(bind.transport.rawValue)), AuditDetail("address", .string(bind.address.description)),
            ])
        }
        if let array {
            return try await createBind(sessionID: sessionID, transport: transport, address: address, audit: audit, in: array)
        }
        return try await durable(store.mutate(audit) { state, now, changes throws(FirewallError) in
            try state.createBind(sessionID: sessionID, transport: transport, address: address, now: now, changes: &changes)
        })
    }

    /// One bind of a session.
    public func bind(sessionID: String, bindID: BindID) async throws(FirewallError) -> Bind {
        withTraffic(await visible(try await store.read({ state throws(FirewallError) in
            guard state.session(sessionID) != nil else { throw .notFound("session", sessionID) }
            guard let bind = state.bind(bindID, inSession: sessionID) else { throw .notFound("bind", bindID.description) }
            return bind
        }, orMirrored: { array in array.bind(bindID, inSession: sessionID) })))
    }

    /// A page of a session's binds.
    public func listBinds(sessionID: String, state bindState: BindState?, page: PageRequest) async throws(FirewallError)
        -> Page<Bind>
    {
        var page = await visible(try await store.read(bindsOf: sessionID) { state throws(FirewallError) in
            try state.listBinds(sessionID: sessionID, state: bindState, page: page)
        })
        page.items = withTraffic(page.items)
        return page
    }

    /// Who holds an address: a page of the binds on exactly it and the wildcard bind on its port
    /// (every bind on the port for a wildcard address), across sessions and (in an array) nodes.
    public func binds(holding address: SocketAddress, transport: TransportProtocol?, page: PageRequest) async -> Page<Bind> {
        let all = await visible(await store.binds(holding: address, transport: transport))
        let after = page.after.map { after in all.firstIndex { $0.id.rawValue > after } ?? all.count } ?? 0
        let items = Array(all[after...].prefix(page.limit))
        let more = after + items.count < all.count
        return Page(items: withTraffic(items), nextCursor: more ? items.last.map { PageRequest.cursor($0.id.rawValue) } : nil)
    }

    /// Closes a bind.
    public func closeBind(sessionID: String, bindID: BindID, by context: AuditContext? = nil) async throws(FirewallError) -> Bind {
        let audit = AuditIntent<Bind>.make(context, "bind.delete") { AuditSubject(sessionID: $0.sessionID, bindID: $0.id) }
        return withTraffic(try await durable(store.mutate(forSession: sessionID, audit) { state, now, changes throws(FirewallError) in
            try state.closeBind(sessionID: sessionID, bindID: bindID, now: now, changes: &changes)
        }))
    }

    /// RetroactiveAllowBind. Recorded when it allowed a bind (S_OK); a re-approval (S_FALSE)
    /// changes nothing worth a record, even when it renews an approval's lifetime.
    public func retroactiveAllowBind(
        sessionID: String, _ request: RetroactiveAllowBindRequest, by context: AuditContext? = nil
    ) async throws(FirewallError) -> RetroactiveAllowBindResult {
        let audit = AuditIntent<RetroactiveAllowBindResult>.make(context, "retroactive-allow-bind") { result in
            guard result.hresult == .S_OK else { return nil }
            var details = [
                AuditDetail("protocol", .string(request.transport.rawValue)), AuditDetail("address", .string(request.address.description)),
                AuditDetail("protocolGuid", .string(request.protocolGUID.description)),
                AuditDetail("flags", .strings(request.flags.names)),
                AuditDetail("bindIds", .strings(result.binds.map(\.id.description))),
            ]
            if case .stored(let filterID) = request.ipFilter { details.append(AuditDetail("ipFilterId", .string(filterID))) }
            if case .inline = request.ipFilter { details.append(AuditDetail("ipFilter", .string("inline"))) }
            return AuditSubject(sessionID: sessionID, bindID: result.binds.count == 1 ? result.binds[0].id : nil, details: details)
        }
        var result = try await durable(store.mutate(forSession: sessionID, audit) { state, now, changes throws(FirewallError) in
            try state.retroactiveAllowBind(sessionID: sessionID, request, now: now, changes: &changes)
        })
        result.binds = withTraffic(result.binds)
        return result
    }

    /// SetIpFilter on an allowed bind.
    public func setIPFilter(sessionID: String, bindID: BindID, filter: BindIPFilter?, by context: AuditContext? = nil) async
        throws(FirewallError) -> Bind
    {
        let audit = AuditIntent<Bind>.make(context, filter == nil ? "bind.ip-filter.lift" : "bind.ip-filter.set") { bind in
            var details: [AuditDetail] = []
            if case .stored(let id)? = filter { details.append(AuditDetail("ipFilterId", .string(id))) }
            if case .inline? = filter { details.append(AuditDetail("ipFilter", .string("inline"))) }
            return AuditSubject(sessionID: bind.sessionID, bindID: bind.id, details: details)
        }
        return withTraffic(try await durable(store.mutate(forSession: sessionID, audit) { state, now, changes throws(FirewallError) in
            try state.setIPFilter(sessionID: sessionID, bindID: bindID, filter: filter, now: now, changes: &changes)
        }))
    }

    // MARK: Decisions

    /// One decision.
    public func decide(_ query: DecisionQuery) async throws(FirewallError) -> Decision {
        let decision = await visible(try await store.decide { state, now in state.decide(query, now: now) })
        if array != nil, decision.reason == .noBind { try await store.refuseMirroredDecision(query) }
        return decision
    }

    /// Many decisions in one hop, in order.
    public func decide(batch queries: [DecisionQuery]) async throws(FirewallError) -> [Decision] {
        await visible(try await store.decide { state, now in queries.map { state.decide($0, now: now) } })
    }

    // MARK: Policy

    /// The ordered rules (default last) and the policy version, read together.
    public func rules(page: PageRequest) async throws(FirewallError) -> (page: Page<PositionedRule>, policyVersion: Int64) {
        let result = await visible(try await store.read { state in PolicyRead(value: state.listRules(page: page), version: state.policyVersion) })
        return (result.value, result.version)
    }

    /// One rule and the policy version.
    public func rule(_ id: String) async throws(FirewallError) -> (rule: PositionedRule, policyVersion: Int64) {
        let result = await visible(try await store.read { state throws(FirewallError) in
            guard let rule = state.rule(id) else { throw .notFound("rule", id) }
            return PolicyRead(value: rule, version: state.policyVersion)
        })
        return (result.value, result.version)
    }

    /// The current policy version.
    public func policyVersion() async throws(FirewallError) -> Int64 {
        await visible(try await store.read { state in state.policyVersion })
    }

    /// Creates a rule; `expectedVersion` (If-Match) must be the current policy version.
    public func createRule(_ spec: RuleSpec, ifMatch expectedVersion: Int64?, by context: AuditContext? = nil) async
        throws(FirewallError) -> (rule: PositionedRule, policyVersion: Int64)
    {
        try await policyChange(ifMatch: expectedVersion, audit: .make(context, "rule.create", Self.describeRule)) { state, now, changes throws(FirewallError) in
            try state.createRule(spec, now: now, changes: &changes)
        }
    }

    /// Replaces (and maybe moves) a rule.
    public func replaceRule(_ id: String, _ spec: RuleSpec, ifMatch expectedVersion: Int64?, by context: AuditContext? = nil) async
        throws(FirewallError) -> (rule: PositionedRule, policyVersion: Int64)
    {
        try await policyChange(ifMatch: expectedVersion, audit: .make(context, "rule.replace", Self.describeRule)) { state, now, changes throws(FirewallError) in
            try state.replaceRule(id, spec, now: now, changes: &changes)
        }
    }

    /// Deletes a rule.
    public func deleteRule(_ id: String, ifMatch expectedVersion: Int64?, by context: AuditContext? = nil) async throws(FirewallError) -> Int64 {
        let audit = AuditIntent<PolicyRead<Void>>.make(context, "rule.delete") { read in
            AuditSubject(details: [AuditDetail("ruleId", .string(id)), AuditDetail("policyVersion", .integer(read.version))])
        }
        return try await policyChange(ifMatch: expectedVersion, audit: audit) { state, now, changes throws(FirewallError) in
            try state.deleteRule(id, now: now, changes: &changes)
        }.policyVersion
    }

    /// A page of protocol definitions and the policy version.
    public func protocols(page: PageRequest) async throws(FirewallError) -> (page: Page<ProtocolDefinition>, policyVersion: Int64) {
        let result = await visible(try await store.read { state in PolicyRead(value: state.listProtocols(page: page), version: state.policyVersion) })
        return (result.value, result.version)
    }

    /// One protocol definition and the policy version.
    public func protocolDefinition(_ guid: ProtocolGUID) async throws(FirewallError) -> (definition: ProtocolDefinition, policyVersion: Int64) {
        let result = await visible(try await store.read { state throws(FirewallError) in
            guard let definition = state.protocolDefinition(guid) else { throw .notFound("protocol definition", guid.description) }
            return PolicyRead(value: definition, version: state.policyVersion)
        })
        return (result.value, result.version)
    }

    /// Adds a protocol definition.
    public func createProtocol(_ definition: ProtocolDefinition, ifMatch expectedVersion: Int64?, by context: AuditContext? = nil)
        async throws(FirewallError) -> (definition: ProtocolDefinition, policyVersion: Int64)
    {
        let audit = AuditIntent<PolicyRead<ProtocolDefinition>>.make(context, "protocol.create", Self.describeProtocol)
        let result = try await policyChange(ifMatch: expectedVersion, audit: audit) { state, now, changes throws(FirewallError) in
            try state.createProtocol(definition, now: now, changes: &changes)
        }
        return (result.0, result.1)
    }

    /// Replaces a protocol definition.
    public func replaceProtocol(_ definition: ProtocolDefinition, ifMatch expectedVersion: Int64?, by context: AuditContext? = nil)
        async throws(FirewallError) -> (definition: ProtocolDefinition, policyVersion: Int64)
    {
        let audit = AuditIntent<PolicyRead<ProtocolDefinition>>.make(context, "protocol.replace", Self.describeProtocol)
        let result = try await policyChange(ifMatch: expectedVersion, audit: audit) { state, now, changes throws(FirewallError) in
            try state.replaceProtocol(definition, now: now, changes: &changes)
        }
        return (result.0, result.1)
    }

    /// Deletes a protocol definition.
    public func deleteProtocol(_ guid: ProtocolGUID, ifMatch expectedVersion: Int64?, by context: AuditContext? = nil) async
        throws(FirewallError) -> Int64
    {
        let audit = AuditIntent<PolicyRead<Void>>.make(context, "protocol.delete") { read in
            AuditSubject(details: [AuditDetail("protocolGuid", .string(guid.description)), AuditDetail("policyVersion", .integer(read.version))])
        }
        return try await policyChange(ifMatch: expectedVersion, audit: audit) { state, now, changes throws(FirewallError) in
            try state.deleteProtocol(guid, now: now, changes: &changes)
        }.policyVersion
    }

    /// A dry run of the rules for a session.
    public func evaluate(sessionID: String, protocolGUID: ProtocolGUID) async throws(FirewallError)
        -> (evaluation: RuleEvaluator.Evaluation, policyVersion: Int64)
    {
        let result = await visible(try await store.read { state throws(FirewallError) in
            PolicyRead(value: try state.evaluate(sessionID: sessionID, protocolGUID: protocolGUID), version: state.policyVersion)
        })
        return (result.value, result.version)
    }

    /// A dry run of the rules for a user and address.
    public func evaluate(user: SessionUser?, clientAddress: IPAddress, protocolGUID: ProtocolGUID) async throws(FirewallError)
        -> (evaluation: RuleEvaluator.Evaluation, policyVersion: Int64)
    {
        let result = await visible(try await store.read { state in
            PolicyRead(value: state.evaluate(user: user, clientAddress: clientAddress, protocolGUID: protocolGUID), version: state.policyVersion)
        })
        return (result.value, result.version)
    }

    private static func describeRule(_ read: PolicyRead<PositionedRule>) -> AuditSubject {
        AuditSubject(details: [
            AuditDetail("ruleId", .string(read.value.rule.id)), AuditDetail("position", .integer(Int64(read.value.position))),
            AuditDetail("policyVersion", .integer(read.version)),
        ])
    }

    private static func describeProtocol(_ read: PolicyRead<ProtocolDefinition>) -> AuditSubject {
        AuditSubject(details: [
            AuditDetail("protocolGuid", .string(read.value.guid.description)), AuditDetail("policyVersion", .integer(read.version)),
        ])
    }

    private func policyChange<T: Sendable>(
        ifMatch expectedVersion: Int64?, audit: AuditIntent<PolicyRead<T>>? = nil,
        _ body: @escaping @Sendable (inout FirewallState, Timestamp, inout ChangeSet) throws(FirewallError) -> T
    ) async throws(FirewallError) -> (T, policyVersion: Int64) {
        if let array { return try await sharedPolicyChange(in: array, ifMatch: expectedVersion, audit: audit, body) }
        let result = try await durable(store.mutate(audit) { state, now, changes throws(FirewallError) in
            if let expectedVersion, expectedVersion != state.policyVersion {
                throw FirewallError(
                    .ERROR_REVISION_MISMATCH,
                    "If-Match names policy version \(expectedVersion) but the current version is \(state.policyVersion)")
            }
            let value = try body(&state, now, &changes)
            return PolicyRead(value: value, version: state.policyVersion)
        })
        return (result.value, result.version)
    }

    // MARK: Audit trail

    /// A page of the audit trail, read from the durable store on the reader's thread. What it
    /// shows is durable: each record was written in the transaction of the change it records.
    /// Without a durable store there is no trail: 409 ERROR_INVALID_STATE.
    public func auditRecords(_ query: AuditQuery) async throws(FirewallError) -> Page<AuditRecord> {
        guard let auditTrail else {
            throw FirewallError(
                .ERROR_INVALID_STATE,
                "the audit trail is kept in the durable store, and this server runs without one (--store memory); the audit log lines remain")
        }
        do {
            return try await auditTrail.records(query)
        } catch {
            throw FirewallError.unavailable(PipelineFailure(sink: "store", message: error.message))
        }
    }

    // MARK: IP filters

    /// Creates a stored filter.
    public func createIPFilter(include: [IPRange], exclude: [IPRange], by context: AuditContext? = nil) async throws(FirewallError)
        -> StoredIPFilter
    {
        try await filterChange(audit: .make(context, "ip-filter.create", Self.describeFilter)) { state, now, changes throws(FirewallError) in
            try state.createIPFilter(include: include, exclude: exclude, now: now, changes: &changes)
        }
    }

    /// One stored filter.
    public func ipFilter(_ id: String) async throws(FirewallError) -> StoredIPFilter {
        await visible(try await store.read { state throws(FirewallError) in
            guard let filter = state.ipFilter(id) else { throw .notFound("IP filter", id) }
            return filter
        })
    }

    /// A page of stored filters.
    public func listIPFilters(page: PageRequest) async throws(FirewallError) -> Page<StoredIPFilter> {
        await visible(try await store.read { state in state.listIPFilters(page: page) })
    }

    /// IncludeRange, ExcludeRange, IncludeFilter, ExcludeFilter.
    public func modifyIPFilter(_ id: String, _ operation: IPFilterOperation, by context: AuditContext? = nil) async
        throws(FirewallError) -> StoredIPFilter
    {
        let (action, operand): (String, AuditDetail) = switch operation {
        case .includeRange(let range): ("ip-filter.include-range", AuditDetail("range", .string(range.description)))
        case .excludeRange(let range): ("ip-filter.exclude-range", AuditDetail("range", .string(range.description)))
        case .includeFilter(let other): ("ip-filter.include-filter", AuditDetail("otherFilterId", .string(other)))
        case .excludeFilter(let other): ("ip-filter.exclude-filter", AuditDetail("otherFilterId", .string(other)))
        }
        let audit = AuditIntent<PolicyRead<StoredIPFilter>>.make(context, action) { read in
            var subject = Self.describeFilter(read)
            subject.details.append(operand)
            return subject
        }
        return try await filterChange(audit: audit) { state, now, changes throws(FirewallError) in
            try state.modifyIPFilter(id, operation, now: now, changes: &changes)
        }
    }

    /// IsIncluded.
    public func ipFilterContains(_ id: String, _ address: IPAddress) async throws(FirewallError) -> Bool {
        await visible(try await store.read { state throws(FirewallError) in try state.ipFilterContains(id, address) })
    }

    /// Clone.
    public func cloneIPFilter(_ id: String, by context: AuditContext? = nil) async throws(FirewallError) -> StoredIPFilter {
        let audit = AuditIntent<PolicyRead<StoredIPFilter>>.make(context, "ip-filter.clone") { read in
            var subject = Self.describeFilter(read)
            subject.details.append(AuditDetail("sourceFilterId", .string(id)))
            return subject
        }
        return try await filterChange(audit: audit) { state, now, changes throws(FirewallError) in
            try state.cloneIPFilter(id, now: now, changes: &changes)
        }
    }

    /// Compare.
    public func compareIPFilters(_ id: String, _ otherID: String) async throws(FirewallError) -> IPRangeSetRelation {
        await visible(try await store.read { state throws(FirewallError) in try state.compareIPFilters(id, otherID) })
    }

    /// Deletes a stored filter.
    public func deleteIPFilter(_ id: String, by context: AuditContext? = nil) async throws(FirewallError) {
        let audit = AuditIntent<PolicyRead<Void>>.make(context, "ip-filter.delete") { _ in
            AuditSubject(details: [AuditDetail("ipFilterId", .string(id))])
        }
        try await filterChange(audit: audit) { state, _, changes throws(FirewallError) in
            try state.deleteIPFilter(id, changes: &changes)
        }
    }
}

extension FirewallService {
    private static func describeFilter(_ read: PolicyRead<StoredIPFilter>) -> AuditSubject {
        AuditSubject(details: [AuditDetail("ipFilterId", .string(read.value.id))])
    }
}

/// A value read together with the policy version it belongs to.
struct PolicyRead<Value: Sendable>: Sendable {
    var value: Value
    var version: Int64
}
