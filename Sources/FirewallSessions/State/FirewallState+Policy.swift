/// A rule as a client writes it (the server assigns the id).
public struct RuleSpec: Sendable, Equatable {
    /// A name for people.
    public var name: String
    /// A disabled rule is skipped.
    public var enabled: Bool
    /// Allow or deny.
    public var action: RuleAction
    /// The protocols it applies to.
    public var protocols: RuleProtocols
    /// Principals.
    public var users: [String]
    /// Client addresses; nil means any.
    public var sourceAddresses: IPRangeSet?
    /// 1-based place in evaluation order; nil appends (create) or keeps the place (replace).
    public var position: Int?

    /// Creates a spec.
    public init(
        name: String, enabled: Bool = true, action: RuleAction, protocols: RuleProtocols, users: [String],
        sourceAddresses: IPRangeSet? = nil, position: Int? = nil
    ) {
        self.name = name
        self.enabled = enabled
        self.action = action
        self.protocols = protocols
        self.users = users
        self.sourceAddresses = sourceAddresses
        self.position = position
    }

    /// What the spec alone decides: it names at least one user or group. (That its protocols are
    /// defined is checked against the state.)
    public func validate() throws(FirewallError) {
        guard !users.isEmpty else { throw .invalid("users", "must name at least one user or group, or 'All Users'") }
    }
}

/// A rule with its 1-based place in evaluation order; the default rule is always last.
public struct PositionedRule: Sendable, Equatable {
    /// The rule.
    public var rule: AccessRule
    /// 1-based place.
    public var position: Int
    /// Whether this is the built-in default rule.
    public var isDefault: Bool { rule.id == AccessRule.defaultRuleID }
}

extension FirewallState {
    // MARK: Rules

    /// Every rule in evaluation order, the default rule last.
    public var orderedRules: [PositionedRule] {
        (rules + [AccessRule.defaultRule]).enumerated().map { PositionedRule(rule: $0.element, position: $0.offset + 1) }
    }

    /// One rule with its position.
    public func rule(_ id: String) -> PositionedRule? { orderedRules.first { $0.rule.id == id } }

    /// A page of rules in evaluation order (the cursor is the last position seen).
    public func listRules(page: PageRequest) -> Page<PositionedRule> {
        offsetPage(orderedRules, page)
    }

    /// Adds a rule at `spec.position` (default: just before the default rule).
    public mutating func createRule(_ spec: RuleSpec, now: Timestamp, changes: inout ChangeSet) throws(FirewallError)
        -> PositionedRule
    {
        try validate(spec)
        guard rules.count < settings.maxRules else {
            throw FirewallError(.FWX_E_IS_BUSY, "the limit of \(settings.maxRules) rules is reached",
                                retryAfterSeconds: settings.quotaRetryAfterSeconds)
        }
        let index = try insertionIndex(for: spec.position, count: rules.count)
        let rule = AccessRule(
            id: "r-\(nextSequence())", name: spec.name, enabled: spec.enabled, action: spec.action,
            protocols: spec.protocols, users: spec.users, sourceAddresses: spec.sourceAddresses)
        rules.insert(rule, at: index)
        changes.changes.append(.rulesReplaced(rules))
        policyChanged(now: now, changes: &changes)
        return PositionedRule(rule: rule, position: index + 1)
    }

    /// Replaces a rule's content and, when `spec.position` is given, moves it there.
    public mutating func replaceRule(_ id: String, _ spec: RuleSpec, now: Timestamp, changes: inout ChangeSet)
        throws(FirewallError) -> PositionedRule
    {
        try refuseDefaultRule(id)
        guard let current = rules.firstIndex(where: { $0.id == id }) else { throw .notFound("rule", id) }
        try validate(spec)
        var rule = rules.remove(at: current)
        let index: Int
        do {
            index = try spec.position.map { position throws(FirewallError) in
                try insertionIndex(for: position, count: rules.count)
            } ?? current
        } catch {
            rules.insert(rule, at: current)
            throw error
        }
        rule.name = spec.name
        rule.enabled = spec.enabled
        rule.action = spec.action
        rule.protocols = spec.protocols
        rule.users = spec.users
        rule.sourceAddresses = spec.sourceAddresses
        rules.insert(rule, at: index)
        changes.changes.append(.rulesReplaced(rules))
        policyChanged(now: now, changes: &changes)
        return PositionedRule(rule: rule, position: index + 1)
    }

    /// Deletes a rule.
    public mutating func deleteRule(_ id: String, now: Timestamp, changes: inout ChangeSet) throws(FirewallError) {
        try refuseDefaultRule(id)
        guard let index = rules.firstIndex(where: { $0.id == id }) else { throw .notFound("rule", id) }
        rules.remove(at: index)
        changes.changes.append(.rulesReplaced(rules))
        policyChanged(now: now, changes: &changes)
    }

    /// A dry run of the rules for a session (like HostAccessCheck).
    public func evaluate(sessionID: String, protocolGUID: ProtocolGUID) throws(FirewallError) -> RuleEvaluator.Evaluation {
        guard let session = sessions[sessionID] else { throw .notFound("session", sessionID) }
        return evaluator.evaluate(protocolGUID: protocolGUID, user: session.user, clientAddress: session.clientAddress)
    }

    /// A dry run of the rules for a user and client address that need not have a session.
    public func evaluate(user: SessionUser?, clientAddress: IPAddress, protocolGUID: ProtocolGUID) -> RuleEvaluator.Evaluation {
        evaluator.evaluate(protocolGUID: protocolGUID, user: user, clientAddress: clientAddress)
    }

    private func refuseDefaultRule(_ id: String) throws(FirewallError) {
        if id == AccessRule.defaultRuleID {
            throw FirewallError(.E_ACCESSDENIED, "the built-in default rule is never moved, changed or deleted")
        }
    }

    private func validate(_ spec: RuleSpec) throws(FirewallError) {
        try spec.validate()
        for (index, guid) in spec.protocols.referencedGUIDs.enumerated() where protocols[guid] == nil {
            throw .invalid(spec.protocols.fieldName(index), "is \(guid), which no protocol definition has")
        }
    }

    private func insertionIndex(for position: Int?, count: Int) throws(FirewallError) -> Int {
        guard let position else { return count }
        guard (1...count + 1).contains(position) else {
            throw .invalid("position", "must be in 1...\(count + 1) (the default rule stays last)")
        }
        return position - 1
    }

    // MARK: Protocols

    /// One protocol definition.
    public func protocolDefinition(_ guid: ProtocolGUID) -> ProtocolDefinition? { protocols[guid] }

    /// A page of protocol definitions: built-ins first, then the rest by name.
    public func listProtocols(page: PageRequest) -> Page<ProtocolDefinition> {
        let sorted = protocols.values.sorted { lhs, rhs in
            if lhs.isBuiltIn != rhs.isBuiltIn { return lhs.isBuiltIn }
            return (lhs.name.lowercased(), lhs.guid) < (rhs.name.lowercased(), rhs.guid)
        }
        return offsetPage(sorted, page)
    }

    /// Adds a protocol definition.
    public mutating func createProtocol(_ definition: ProtocolDefinition, now: Timestamp, changes: inout ChangeSet)
        throws(FirewallError) -> ProtocolDefinition
    {
        try definition.validate()
        guard protocols[definition.guid] == nil else {
            throw FirewallError(.FWX_E_ALREADY_EXISTS, "a protocol definition with GUID \(definition.guid) exists")
        }
        guard protocols.count < settings.maxProtocols else {
            throw FirewallError(.FWX_E_IS_BUSY, "the limit of \(settings.maxProtocols) protocol definitions is reached",
                                retryAfterSeconds: settings.quotaRetryAfterSeconds)
        }
        var definition = definition
        definition.isBuiltIn = false
        protocols[definition.guid] = definition
        changes.changes.append(.protocolSaved(definition))
        policyChanged(now: now, changes: &changes)
        return definition
    }

    /// Replaces a user-defined protocol definition; predefined ones cannot be changed.
    public mutating func replaceProtocol(_ definition: ProtocolDefinition, now: Timestamp, changes: inout ChangeSet)
        throws(FirewallError) -> ProtocolDefinition
    {
        try definition.validate()
        guard let existing = protocols[definition.guid] else { throw .notFound("protocol definition", definition.guid.description) }
        guard !existing.isBuiltIn else {
            throw FirewallError(.E_ACCESSDENIED, "the predefined protocol definition '\(existing.name)' cannot be changed")
        }
        var definition = definition
        definition.isBuiltIn = false
        protocols[definition.guid] = definition
        changes.changes.append(.protocolSaved(definition))
        policyChanged(now: now, changes: &changes)
        return definition
    }

    /// Deletes a user-defined protocol definition no rule or allowed bind refers to.
    public mutating func deleteProtocol(_ guid: ProtocolGUID, now: Timestamp, changes: inout ChangeSet) throws(FirewallError) {
        guard let existing = protocols[guid] else { throw .notFound("protocol definition", guid.description) }
        guard !existing.isBuiltIn else {
            throw FirewallError(.E_ACCESSDENIED, "the predefined protocol definition '\(existing.name)' cannot be deleted")
        }
        if let rule = rules.first(where: { $0.protocols.referencedGUIDs.contains(guid) }) {
            throw FirewallError(.ERROR_BUSY, "protocol definition \(guid) is used by rule '\(rule.name)' (\(rule.id))")
        }
        if let count = protocolReferences[guid], count > 0 {
            throw FirewallError(.ERROR_BUSY, "protocol definition \(guid) is granted to \(count) allowed bind(s)")
        }
        protocols[guid] = nil
        changes.changes.append(.protocolRemoved(guid))
        policyChanged(now: now, changes: &changes)
    }

    // MARK: Applying a policy change

    /// Raises the policy version and re-checks every allowed bind: one the new policy denies goes
    /// back to pending (its traffic is discarded again) with a `bind.revoked` event.
    mutating func policyChanged(now: Timestamp, changes: inout ChangeSet) {
        metadata.policyVersion += 1
        rebuildEvaluator()
        changes.changes.append(.metadataSaved(metadata))
        changes.events.append(DomainEvent(kind: .policyChanged, policyVersion: metadata.policyVersion))
        revokeDeniedBinds(now: now, changes: &changes)
    }

    /// Sends every allowed bind the current rules deny back to pending, with a `bind.revoked` event.
    mutating func revokeDeniedBinds(now: Timestamp, changes: inout ChangeSet) {
        guard bindCount(.allowed) > 0 else { return }
        struct Key: Hashable {
            var sessionID: String
            var guid: ProtocolGUID
        }
        var verdicts: [Key: RuleAction] = [:]
        let allowed = binds.values.filter { $0.state == .allowed }
        for var bind in allowed {
            guard let grant = bind.grant, let session = sessions[bind.sessionID] else { continue }
            let key = Key(sessionID: session.id, guid: grant.protocolGUID)
            let action = verdicts[key] ?? evaluator.evaluate(
                protocolGUID: grant.protocolGUID, user: session.user, clientAddress: session.clientAddress
            ).action
            verdicts[key] = action
            guard action == .deny else { continue }
            transition(&bind, to: .pending, now: now)
            changes.changes.append(.bindSaved(bind))
            changes.events.append(DomainEvent(kind: .bindRevoked, sessionID: bind.sessionID, bind: bind))
        }
    }

    /// Pages a small list by offset (the cursor is the number of items already returned).
    func offsetPage<Item>(_ items: [Item], _ page: PageRequest) -> Page<Item> {
        let start = Int(min(page.after ?? 0, UInt64(items.count)))
        let end = min(start + page.limit, items.count)
        let next = end < items.count ? PageRequest.cursor(UInt64(end)) : nil
        return Page(items: Array(items[start..<end]), nextCursor: next)
    }
}

extension RuleProtocols {
    /// The body path of the `index`th GUID, for error messages.
    func fieldName(_ index: Int) -> String {
        switch self {
        case .any, .only: "protocols[\(index)]"
        case .allExcept: "protocols.except[\(index)]"
        }
    }
}
