import Testing

@testable import FirewallSessions

@Suite("IPRangeSet")
struct IPRangeSetTests {
    enum Operation: String, Sendable, CustomStringConvertible {
        case includeRange, excludeRange, includeSet, excludeSet
        var description: String { rawValue }
    }

    static let top6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    static let belowTop6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"

    /// A starting set, an operation with its operand, the expected ranges.
    static let operations: [([String], Operation, [String], [String])] = [
        // Adjacent ranges coalesce, from either side and across a one-address gap.
        (["10.0.0.0-10.0.0.5"], .includeRange, ["10.0.0.6"], ["10.0.0.0-10.0.0.6"]),
        (["10.0.0.6"], .includeRange, ["10.0.0.0-10.0.0.5"], ["10.0.0.0-10.0.0.6"]),
        (["10.0.0.0-10.0.0.4", "10.0.0.6-10.0.0.9"], .includeRange, ["10.0.0.5"], ["10.0.0.0-10.0.0.9"]),
        (["10.0.0.0-10.0.0.4"], .includeRange, ["10.0.0.6"], ["10.0.0.0-10.0.0.4", "10.0.0.6"]),
        (["10.0.0.1", "10.0.0.3", "10.0.0.5", "10.0.0.7"], .includeRange, ["10.0.0.0/29"], ["10.0.0.0/29"]),
        (["10.0.0.1", "10.0.0.3", "10.0.0.9"], .includeRange, ["10.0.0.2-10.0.0.4"], ["10.0.0.1-10.0.0.4", "10.0.0.9"]),
        (["10.0.0.0/24"], .includeRange, ["10.0.0.7"], ["10.0.0.0/24"]),
        // The ends of each family's space.
        (["255.255.255.254"], .includeRange, ["255.255.255.255"], ["255.255.255.254/31"]),
        (["255.255.255.255"], .includeRange, ["255.255.255.254"], ["255.255.255.254/31"]),
        (["0.0.0.1"], .includeRange, ["0.0.0.0"], ["0.0.0.0/31"]),
        (["0.0.0.0"], .includeRange, ["0.0.0.1"], ["0.0.0.0/31"]),
        ([belowTop6], .includeRange, [top6], ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"]),
        (["::1"], .includeRange, ["::"], ["::/127"]),
        // The families never touch.
        (["255.255.255.255"], .includeRange, ["::"], ["255.255.255.255", "::"]),
        (["::"], .includeRange, ["255.255.255.255"], ["255.255.255.255", "::"]),
        (["::1", "10.0.0.0/8"], .includeRange, ["0.0.0.0/0"], ["0.0.0.0/0", "::1"]),
        (["0.0.0.0/0"], .includeRange, ["::/0"], ["0.0.0.0/0", "::/0"]),
        // Excluding end points, middles, and across many ranges.
        (["10.0.0.0/24"], .excludeRange, ["10.0.0.0"], ["10.0.0.1-10.0.0.255"]),
        (["10.0.0.0/24"], .excludeRange, ["10.0.0.127"], ["10.0.0.0-10.0.0.126", "10.0.0.128/25"]),
        (["10.0.0.0/24"], .excludeRange, ["10.0.0.255"], ["10.0.0.0-10.0.0.254"]),
        (["10.0.0.0/24"], .excludeRange, ["10.0.0.128"], ["10.0.0.0/25", "10.0.0.129-10.0.0.255"]),
        (["10.0.0.5"], .excludeRange, ["10.0.0.5"], []),
        (["10.0.0.5-10.0.0.6"], .excludeRange, ["10.0.0.5"], ["10.0.0.6"]),
        (
            ["10.0.0.0/24", "10.0.2.0/24", "10.0.4.0/24", "10.0.6.0/24"], .excludeRange,
            ["10.0.0.128-10.0.6.127"], ["10.0.0.0/25", "10.0.6.128/25"]
        ),
        (["10.0.0.0/24", "10.0.2.0/24"], .excludeRange, ["10.0.0.0/24"], ["10.0.2.0/24"]),
        (["10.0.0.0/24", "10.0.2.0/24"], .excludeRange, ["10.0.1.0/24"], ["10.0.0.0/24", "10.0.2.0/24"]),
        (["10.0.0.0/24", "10.0.2.0/24"], .excludeRange, ["0.0.0.0/0"], []),
        (["0.0.0.0/0"], .excludeRange, ["0.0.0.0"], ["0.0.0.1-255.255.255.255"]),
        (["0.0.0.0/0"], .excludeRange, ["255.255.255.255"], ["0.0.0.0-255.255.255.254"]),
        (["::/0"], .excludeRange, ["::"], ["::1-\(top6)"]),
        (["::/0"], .excludeRange, [top6], ["::-\(belowTop6)"]),
        (["0.0.0.0/0", "::/0"], .excludeRange, ["0.0.0.0/0"], ["::/0"]),
        (["0.0.0.0/0", "::/0"], .excludeRange, ["::/0"], ["0.0.0.0/0"]),
        (["0.0.0.0/0"], .excludeRange, ["::/0"], ["0.0.0.0/0"]),
        (["255.255.255.255", "::"], .excludeRange, ["::"], ["255.255.255.255"]),
        ([], .excludeRange, ["10.0.0.0/8"], []),
        // Union and difference of whole sets.
        (
            ["10.0.0.0-10.0.0.5", "10.0.0.20"], .includeSet, ["10.0.0.6-10.0.0.19", "::1"],
            ["10.0.0.0-10.0.0.20", "::1"]
        ),
        (["255.255.255.255"], .includeSet, ["::", "255.255.255.254"], ["255.255.255.254/31", "::"]),
        ([], .includeSet, ["10.0.0.0/8"], ["10.0.0.0/8"]),
        (["10.0.0.0/8"], .includeSet, [], ["10.0.0.0/8"]),
        (["10.0.0.1", "10.0.0.3"], .includeSet, ["10.0.0.0", "10.0.0.2", "10.0.0.4"], ["10.0.0.0-10.0.0.4"]),
        (
            ["10.0.0.0/24", "::/0"], .excludeSet,
            ["10.0.0.0", "10.0.0.2", "10.0.0.255", "::1", top6],
            ["10.0.0.1", "10.0.0.3-10.0.0.254", "::", "::2-\(belowTop6)"]
        ),
        (["10.0.0.0/24", "10.0.2.0/24"], .excludeSet, ["10.0.0.128-10.0.2.127"], ["10.0.0.0/25", "10.0.2.128/25"]),
        (["10.0.0.1", "10.0.0.3", "10.0.0.5"], .excludeSet, ["10.0.0.2-10.0.0.4", "10.0.0.5"], ["10.0.0.1"]),
        (["10.0.0.0/24", "::1"], .excludeSet, ["10.0.0.0/24", "::1"], []),
        (["10.0.0.0/24"], .excludeSet, ["::/0"], ["10.0.0.0/24"]),
        (["10.0.0.0/24"], .excludeSet, [], ["10.0.0.0/24"]),
        ([], .excludeSet, ["10.0.0.0/24"], []),
    ]

    @Test("operations keep the ranges normalised", arguments: operations)
    func operation(start: [String], operation: Operation, operand: [String], expected: [String]) {
        var set = IPRangeSet(ranges: start.map(ipRange))
        switch operation {
        case .includeRange: set.include(ipRange(operand[0]))
        case .excludeRange: set.exclude(ipRange(operand[0]))
        case .includeSet: set.include(IPRangeSet(ranges: operand.map(ipRange)))
        case .excludeSet: set.exclude(IPRangeSet(ranges: operand.map(ipRange)))
        }
        #expect(set.ranges.map(\.description) == expected)
        #expect(normalisationProblem(set) == nil)
    }

    @Test("normalises ranges given in any order, overlapping or touching")
    func initialiserNormalises() {
        let set = ipRangeSet("::1", "10.0.0.8-10.0.0.9", "10.0.0.0-10.0.0.4", "10.0.0.5", "10.0.0.3", "::", "1.2.3.4")
        #expect(set.description == "[1.2.3.4, 10.0.0.0-10.0.0.5, 10.0.0.8/31, ::/127]")
        #expect(IPRangeSet(ranges: []).isEmpty)
        #expect(IPRangeSet().ranges.isEmpty)
    }

    @Test("contains exactly the addresses of its ranges")
    func contains() {
        let set = ipRangeSet("0.0.0.0", "10.0.0.0/24", "255.255.255.255", "::", "2001:db8::/32", Self.top6)
        let inside = ["0.0.0.0", "10.0.0.0", "10.0.0.255", "255.255.255.255", "::", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", Self.top6]
        let outside = ["0.0.0.1", "9.255.255.255", "10.0.1.0", "255.255.255.254", "::1", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::", Self.belowTop6, "::a00:1"]
        for text in inside { #expect(set.contains(ip(text)), "\(text)") }
        for text in outside { #expect(!set.contains(ip(text)), "\(text)") }
        #expect(!IPRangeSet().contains(ip("0.0.0.0")))
        #expect(!IPRangeSet().contains(ip("::")))
    }

    @Test("compares as a set, since the form is normalised")
    func equality() {
        #expect(ipRangeSet("10.0.0.0-10.0.0.5", "10.0.0.6-10.0.0.255") == ipRangeSet("10.0.0.0/24"))
        #expect(ipRangeSet("10.0.0.0/24") != ipRangeSet("10.0.0.0/25"))
        #expect(Set([ipRangeSet("10.0.0.0/24"), ipRangeSet("10.0.0.0/25", "10.0.0.128/25")]).count == 1)
        var built = IPRangeSet()
        built.include(ipRange("10.0.0.0/23"))
        built.exclude(ipRange("10.0.1.0/24"))
        #expect(built == ipRangeSet("10.0.0.0/24"))
    }

    @Test("is a value: a copy does not see later changes")
    func valueSemantics() {
        let original = ipRangeSet("10.0.0.0/24")
        var copy = original
        copy.exclude(ipRange("10.0.0.0/24"))
        #expect(copy.isEmpty)
        #expect(original == ipRangeSet("10.0.0.0/24"))
    }
}
