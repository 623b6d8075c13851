/// An ordered access rule: which users may use which protocols from which addresses.
public struct AccessRule: Sendable, Equatable {
    /// Server-generated id, `r-<number>`; the built-in default rule is `default`.
    public var id: String
    /// A name for people.
    public var name: String
    /// A disabled rule is skipped by evaluation.
    public var enabled: Bool
    /// Allow or deny.
    public var action: RuleAction
    /// The protocols it applies to.
    public var protocols: RuleProtocols
    /// Principals: `All Users`, `All Authenticated Users`, or user and group names.
    public var users: [String]
    /// Client addresses it applies to; nil means any address.
    public var sourceAddresses: IPRangeSet?

    /// Creates a rule.
    public init(
        id: String, name: String, enabled: Bool = true, action: RuleAction, protocols: RuleProtocols,
        users: [String], sourceAddresses: IPRangeSet? = nil
    ) {
        self.id = id
        self.name = name
        self.enabled = enabled
        self.action = action
        self.protocols = protocols
        self.users = users
        self.sourceAddresses = sourceAddresses
    }

    /// The principal that matches every session, unauthenticated ones too.
    public static let allUsers = "All Users"
    /// The principal that matches every session with a user.
    public static let allAuthenticatedUsers = "All Authenticated Users"

    /// The id of the built-in last rule.
    public static let defaultRuleID = "default"

    /// The built-in last rule: denies everything. It is never moved, changed or deleted.
    public static let defaultRule = AccessRule(
        id: defaultRuleID, name: "Default rule", action: .deny, protocols: .any, users: [allUsers])
}

/// What a matching rule decides.
public enum RuleAction: String, Sendable, Hashable, CaseIterable {
    case allow
    case deny
}

/// The protocols a rule applies to.
public enum RuleProtocols: Sendable, Equatable {
    /// Every protocol.
    case any
    /// Only these.
    case only([ProtocolGUID])
    /// Every protocol but these.
    case allExcept([ProtocolGUID])

    /// Whether the rule applies to `guid`.
    public func contains(_ guid: ProtocolGUID) -> Bool {
        switch self {
        case .any: true
        case .only(let list): list.contains(guid)
        case .allExcept(let list): !list.contains(guid)
        }
    }

    /// The GUIDs the rule names, to check that they exist and to block deleting them.
    public var referencedGUIDs: [ProtocolGUID] {
        switch self {
        case .any: []
        case .only(let list), .allExcept(let list): list
        }
    }
}
