/// Decides, like HostAccessCheck, whether the access rules allow a user a protocol.
///
/// Built once per policy version from the ordered rules, with names lower-cased ahead of time so
/// evaluation does no allocation beyond lower-casing the user's own names.
public struct RuleEvaluator: Sendable {
    /// The outcome of an evaluation: the action and the rule that decided it.
    public struct Evaluation: Sendable, Equatable {
        /// Allow or deny.
        public var action: RuleAction
        /// The deciding rule's id (`default` when none matched).
        public var ruleID: String
        /// The deciding rule's name.
        public var ruleName: String

        /// Creates an evaluation.
        public init(action: RuleAction, ruleID: String, ruleName: String) {
            self.action = action
            self.ruleID = ruleID
            self.ruleName = ruleName
        }
    }

    private struct CompiledRule: Sendable {
        var rule: AccessRule
        var matchesAllUsers: Bool
        var matchesAllAuthenticated: Bool
        var names: Set<String>
    }

    private let rules: [CompiledRule]
    private let definedProtocols: Set<ProtocolGUID>

    /// Compiles `rules` (in evaluation order, without the default rule).
    public init(rules: [AccessRule], definedProtocols: Set<ProtocolGUID>) {
        self.definedProtocols = definedProtocols
        self.rules = rules.filter(\.enabled).map { rule in
            var names = Set<String>()
            var all = false
            var authenticated = false
            for principal in rule.users {
                if principal.caseInsensitiveEquals(AccessRule.allUsers) {
                    all = true
                } else if principal.caseInsensitiveEquals(AccessRule.allAuthenticatedUsers) {
                    authenticated = true
                } else {
                    names.insert(principal.lowercased())
                }
            }
            return CompiledRule(rule: rule, matchesAllUsers: all, matchesAllAuthenticated: authenticated, names: names)
        }
    }

    /// The first enabled rule whose protocols, users and source addresses all match decides; no
    /// match falls to the default rule, which denies. An undefined GUID is allowed by no rule.
    public func evaluate(protocolGUID: ProtocolGUID, user: SessionUser?, clientAddress: IPAddress) -> Evaluation {
        let isDefined = definedProtocols.contains(protocolGUID)
        var userNames: Set<String>?
        for compiled in rules {
            let rule = compiled.rule
            if rule.action == .allow && !isDefined { continue }
            guard rule.protocols.contains(protocolGUID) else { continue }
            if let sources = rule.sourceAddresses, !sources.contains(clientAddress) { continue }
            guard Self.usersMatch(compiled, user: user, userNames: &userNames) else { continue }
            return Evaluation(action: rule.action, ruleID: rule.id, ruleName: rule.name)
        }
        let fallback = AccessRule.defaultRule
        return Evaluation(action: fallback.action, ruleID: fallback.id, ruleName: fallback.name)
    }

    private static func usersMatch(_ rule: CompiledRule, user: SessionUser?, userNames: inout Set<String>?) -> Bool {
        if rule.matchesAllUsers { return true }
        guard let user else { return false }
        if rule.matchesAllAuthenticated { return true }
        if rule.names.isEmpty { return false }
        if userNames == nil {
            userNames = Set([user.name.lowercased()] + user.groups.map { $0.lowercased() })
        }
        return !rule.names.isDisjoint(with: userNames ?? [])
    }
}

extension String {
    /// Unicode-aware case-insensitive equality, as Windows compares account names.
    func caseInsensitiveEquals(_ other: String) -> Bool { lowercased() == other.lowercased() }
}
