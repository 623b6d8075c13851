import Testing

@testable import FirewallSessions

@Suite("Rule evaluator")
struct RuleEvaluatorTests {
    static let defined: Set<ProtocolGUID> = Set(BuiltInProtocols.all.map(\.guid))
    static let alice = SessionUser(name: "CONTOSO\\alice", groups: ["CONTOSO\\FTP Users", "CONTOSO\\Staff"])
    static let client = address("10.1.2.3")

    static func makeAccessRule(
        _ id: String, _ action: RuleAction = .allow, protocols: RuleProtocols = .any, users: [String] = [AccessRule.allUsers],
        sourceAddresses: IPRangeSet? = nil, enabled: Bool = true
    ) -> AccessRule {
        AccessRule(id: id, name: "rule \(id)", enabled: enabled, action: action, protocols: protocols, users: users,
                   sourceAddresses: sourceAddresses)
    }

    static func evaluate(
        _ rules: [AccessRule], _ guid: ProtocolGUID = sipGUID, user: SessionUser? = alice, client: IPAddress = client
    ) -> RuleEvaluator.Evaluation {
        RuleEvaluator(rules: rules, definedProtocols: defined).evaluate(protocolGUID: guid, user: user, clientAddress: client)
    }

    static let defaultDeny = RuleEvaluator.Evaluation(action: .deny, ruleID: "default", ruleName: "Default rule")

    @Test("no rule matches: the default rule denies")
    func defaultDenies() {
        #expect(Self.evaluate([]) == Self.defaultDeny)
        #expect(Self.evaluate([], user: nil) == Self.defaultDeny)
        #expect(AccessRule.defaultRule.action == .deny)
        #expect(AccessRule.defaultRule.protocols == .any)
        #expect(AccessRule.defaultRule.users == [AccessRule.allUsers])
    }

    /// Principals of a rule, the session's user, and whether the rule applies.
    static let principalCases: [([String], SessionUser?, Bool)] = [
        (["All Users"], nil, true),
        (["All Users"], alice, true),
        (["All Authenticated Users"], nil, false),
        (["All Authenticated Users"], alice, true),
        (["CONTOSO\\alice"], alice, true),
        (["contoso\\ALICE"], alice, true),
        (["CONTOSO\\FTP Users"], alice, true),
        (["contoso\\ftp users"], alice, true),
        (["CONTOSO\\STAFF"], alice, true),
        (["CONTOSO\\bob"], alice, false),
        (["CONTOSO\\alice"], nil, false),
        (["CONTOSO\\FTP Users"], nil, false),
        (["CONTOSO\\bob", "CONTOSO\\Staff"], alice, true),
        (["alice"], alice, false),
        ([], alice, false),
        ([], nil, false),
        (["CONTOSO\\ÄLICE"], SessionUser(name: "contoso\\älice"), true),
    ]

    @Test("users: All Users, All Authenticated Users, names and groups case-insensitively", arguments: principalCases)
    func principals(users: [String], user: SessionUser?, matches: Bool) {
        let result = Self.evaluate([Self.makeAccessRule("r-1", users: users)], user: user)
        #expect(result.action == (matches ? .allow : .deny))
        #expect(result.ruleID == (matches ? "r-1" : "default"))
    }

    static let sourceCases: [(String, Bool)] = [
        ("10.1.2.3", true), ("10.255.255.255", true), ("11.0.0.0", false), ("192.0.2.9", true), ("192.0.2.10", false),
        ("2001:db8::1", false), ("::ffff:10.1.2.3", true), ("::a01:203", false),
    ]

    @Test("source addresses must contain the client address", arguments: sourceCases)
    func sourceAddresses(client: String, matches: Bool) {
        let rule = Self.makeAccessRule("r-1", sourceAddresses: rangeSet("10.0.0.0/8", "192.0.2.7-192.0.2.9"))
        #expect(Self.evaluate([rule], client: address(client)).action == (matches ? .allow : .deny))
    }

    @Test("an empty source address set matches no client")
    func emptySources() {
        #expect(Self.evaluate([Self.makeAccessRule("r-1", sourceAddresses: IPRangeSet())]) == Self.defaultDeny)
    }

    @Test("the first matching rule wins, in order")
    func firstMatchWins() {
        let rules = [
            Self.makeAccessRule("r-1", .deny, protocols: .only([sipGUID]), users: ["CONTOSO\\alice"]),
            Self.makeAccessRule("r-2", .allow),
            Self.makeAccessRule("r-3", .deny),
        ]
        #expect(Self.evaluate(rules, sipGUID) == .init(action: .deny, ruleID: "r-1", ruleName: "rule r-1"))
        #expect(Self.evaluate(rules, ftpGUID) == .init(action: .allow, ruleID: "r-2", ruleName: "rule r-2"))
        #expect(Self.evaluate(rules, sipGUID, user: SessionUser(name: "CONTOSO\\bob")).ruleID == "r-2")
        #expect(Self.evaluate(Array(rules.reversed()), ftpGUID).ruleID == "r-3")
    }

    @Test("a rule that fails on any of protocol, user or source is skipped")
    func allConditions() {
        let rules = [
            Self.makeAccessRule("protocol", .deny, protocols: .only([ftpGUID])),
            Self.makeAccessRule("user", .deny, users: ["CONTOSO\\bob"]),
            Self.makeAccessRule("source", .deny, sourceAddresses: rangeSet("192.0.2.0/24")),
            Self.makeAccessRule("all", .allow, protocols: .only([sipGUID]), users: ["CONTOSO\\Staff"], sourceAddresses: rangeSet("10.1.2.3")),
        ]
        #expect(Self.evaluate(rules).ruleID == "all")
    }

    @Test("disabled rules are skipped")
    func disabledSkipped() {
        let rules = [Self.makeAccessRule("r-1", .deny, enabled: false), Self.makeAccessRule("r-2", .allow)]
        #expect(Self.evaluate(rules).ruleID == "r-2")
        #expect(Self.evaluate([Self.makeAccessRule("r-1", .allow, enabled: false)]) == Self.defaultDeny)
    }

    static let protocolCases: [(RuleProtocols, ProtocolGUID, Bool)] = [
        (.any, sipGUID, true),
        (.only([sipGUID]), sipGUID, true),
        (.only([ftpGUID]), sipGUID, false),
        (.only([ftpGUID, sipGUID]), sipGUID, true),
        (.only([]), sipGUID, false),
        (.allExcept([sipGUID]), sipGUID, false),
        (.allExcept([sipGUID]), ftpGUID, true),
        (.allExcept([]), ftpGUID, true),
    ]

    @Test("protocols: any, a list, all except a list", arguments: protocolCases)
    func protocols(protocols: RuleProtocols, guid: ProtocolGUID, matches: Bool) {
        #expect(protocols.contains(guid) == matches)
        #expect(Self.evaluate([Self.makeAccessRule("r-1", protocols: protocols)], guid).action == (matches ? .allow : .deny))
    }

    @Test("an undefined protocol GUID is allowed by no rule", arguments: [RuleProtocols.any, .allExcept([sipGUID]), .allExcept([])])
    func undefinedNotAllowed(protocols: RuleProtocols) {
        #expect(Self.evaluate([Self.makeAccessRule("r-1", .allow, protocols: protocols)], undefinedGUID) == Self.defaultDeny)
    }

    @Test("an undefined protocol GUID can be denied by a deny rule", arguments: [RuleProtocols.any, .allExcept([sipGUID])])
    func undefinedDenied(protocols: RuleProtocols) {
        let rules = [Self.makeAccessRule("r-1", .allow), Self.makeAccessRule("r-2", .deny, protocols: protocols)]
        #expect(Self.evaluate(rules, undefinedGUID) == .init(action: .deny, ruleID: "r-2", ruleName: "rule r-2"))
    }

    @Test("the evaluator knows the protocols it was built with")
    func definedProtocols() {
        let custom = makeProtocol().guid
        let evaluator = RuleEvaluator(rules: [Self.makeAccessRule("r-1")], definedProtocols: Self.defined.union([custom]))
        #expect(evaluator.evaluate(protocolGUID: custom, user: nil, clientAddress: Self.client).action == .allow)
    }

    @Test("built-in protocols have fixed GUIDs and names")
    func builtIns() {
        let table = BuiltInProtocols.all.map { ($0.name, $0.guid.description, $0.isBuiltIn) }
        #expect(table.map(\.0) == ["FTP", "H.323", "RTSP", "SIP", "PPTP", "TFTP"])
        #expect(table.allSatisfy { $0.2 })
        #expect(BuiltInProtocols.sip.guid.description == "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21")
        #expect(BuiltInProtocols.ftp.primaryConnections == [PrimaryConnection(transport: .tcp, ports: 21...21, direction: .outbound)])
        #expect(Set(table.map(\.1)).count == table.count)
    }
}
