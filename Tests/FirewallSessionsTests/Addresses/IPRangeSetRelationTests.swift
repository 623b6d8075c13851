import Testing

@testable import FirewallSessions

@Suite("IPRangeSet relation")
struct IPRangeSetRelationTests {
    /// Two sets and how the first relates to the second.
    static let cases: [([String], [String], IPRangeSetRelation)] = [
        ([], [], .equal),
        (["10.0.0.0/24"], ["10.0.0.0/24"], .equal),
        (["10.0.0.0/25", "10.0.0.128/25"], ["10.0.0.0/24"], .equal),
        (["10.0.0.0/24", "::1"], ["::1", "10.0.0.0/24"], .equal),
        ([], ["10.0.0.1"], .subset),
        (["10.0.0.7"], ["10.0.0.0/24"], .subset),
        (["10.0.0.0/24"], ["10.0.0.0/24", "::/0"], .subset),
        (["10.0.0.1", "10.0.0.200"], ["10.0.0.0/24"], .subset),
        (["10.0.0.0"], ["10.0.0.0/31"], .subset),
        (["10.0.0.1"], ["10.0.0.0/31"], .subset),
        (["10.0.0.0/24"], [], .superset),
        (["0.0.0.0/0"], ["255.255.255.255", "0.0.0.0"], .superset),
        (["::/0"], ["::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"], .superset),
        (["10.0.0.0/24"], ["10.0.1.0/24"], .disjoint),
        (["10.0.0.0/24"], ["::a00:0/120"], .disjoint),
        (["10.0.0.0/24"], ["::ffff:10.0.0.0/120"], .equal),
        (["255.255.255.255"], ["::"], .disjoint),
        (["10.0.0.0-10.0.0.5"], ["10.0.0.6"], .disjoint),
        (["10.0.0.1", "10.0.0.3"], ["10.0.0.2", "10.0.0.4"], .disjoint),
        (["10.0.0.0/24"], ["10.0.0.255-10.0.1.0"], .overlap),
        (["10.0.0.0/24", "::1"], ["10.0.0.0/24", "::2"], .overlap),
        (["10.0.0.0/24"], ["10.0.0.0/25", "11.0.0.0"], .overlap),
        (["0.0.0.0/0"], ["::/0", "1.2.3.4"], .overlap),
    ]

    @Test("all five relations", arguments: cases)
    func relation(first: [String], second: [String], expected: IPRangeSetRelation) {
        let a = IPRangeSet(ranges: first.map(ipRange))
        let b = IPRangeSet(ranges: second.map(ipRange))
        #expect(a.relation(to: b) == expected)
        let mirrored: IPRangeSetRelation =
            switch expected {
            case .subset: .superset
            case .superset: .subset
            default: expected
            }
        #expect(b.relation(to: a) == mirrored)
    }

    @Test("wire words")
    func rawValues() {
        #expect(
            [IPRangeSetRelation.equal, .subset, .superset, .overlap, .disjoint].map(\.rawValue)
                == ["equal", "subset", "superset", "overlap", "disjoint"]
        )
    }
}
