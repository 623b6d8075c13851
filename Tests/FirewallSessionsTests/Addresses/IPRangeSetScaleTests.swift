import Testing

@testable import FirewallSessions

/// Large sets: membership by binary search must stay right (and fast enough
/// for a debug build) on 100,000 ranges, and building such a set must not be
/// quadratic.
@Suite("IPRangeSet at scale")
struct IPRangeSetScaleTests {
    static let rangeCount = 100_000
    /// Range i lives in the 64-address slot starting at base + 64 * i, so
    /// membership can be worked out by arithmetic: slot i holds
    /// offsets[i] ... offsets[i] + lengths[i] - 1 within the slot.
    static let slotSize = 64

    struct Layout {
        var base: IPAddress
        var offsets: [Int]
        var lengths: [Int]

        init(base: IPAddress, seed: UInt64) {
            self.base = base
            var random = SplitMix64(seed: seed)
            offsets = (0..<IPRangeSetScaleTests.rangeCount).map { _ in random.below(16) }
            lengths = (0..<IPRangeSetScaleTests.rangeCount).map { _ in 1 + random.below(32) }
        }

        /// Gaps of at least 17 addresses separate the ranges, so none merge.
        var ranges: [IPRange] {
            (0..<IPRangeSetScaleTests.rangeCount).compactMap { index in
                let lower = base.advanced(by: index * IPRangeSetScaleTests.slotSize + offsets[index])
                return IPRange(lower: lower, upper: lower.advanced(by: lengths[index] - 1))
            }
        }

        func expectedContains(_ address: IPAddress) -> Bool {
            guard let distance = address.offset(from: base), distance >= 0 else { return false }
            let slot = distance / IPRangeSetScaleTests.slotSize
            guard slot < IPRangeSetScaleTests.rangeCount else { return false }
            let inSlot = distance % IPRangeSetScaleTests.slotSize
            return inSlot >= offsets[slot] && inSlot < offsets[slot] + lengths[slot]
        }
    }

    static func check(_ layout: Layout, seed: UInt64) {
        var ranges = layout.ranges
        #expect(ranges.count == rangeCount)
        var random = SplitMix64(seed: seed)
        // Shuffle (Fisher-Yates with our own generator) so the initialiser
        // has to sort.
        for index in stride(from: ranges.count - 1, to: 0, by: -1) {
            ranges.swapAt(index, random.below(index + 1))
        }
        let set = IPRangeSet(ranges: ranges)
        #expect(set.ranges == layout.ranges)

        var wrong = 0
        // Every range's ends and their outside neighbours.
        for range in set.ranges {
            if !set.contains(range.lower) || !set.contains(range.upper) { wrong += 1 }
            if set.contains(range.lower.advanced(by: -1)) || set.contains(range.upper.advanced(by: 1)) { wrong += 1 }
        }
        // Random addresses over the covered span and a little beyond.
        let span = rangeCount * Self.slotSize + 1_000
        for _ in 0..<200_000 {
            let probe = layout.base.advanced(by: random.below(span))
            if set.contains(probe) != layout.expectedContains(probe) { wrong += 1 }
        }
        #expect(wrong == 0)
        // Addresses of the other family, and below the base, are never in.
        #expect(!set.contains(layout.base.advanced(by: -1)))
        #expect(!set.contains(layout.base.family == .v4 ? ip("::") : ip("255.255.255.255")))
    }

    @Test("contains on 100,000 IPv4 ranges")
    func containsV4() {
        Self.check(Layout(base: ip("10.0.0.0"), seed: 100), seed: 101)
    }

    @Test("contains on 100,000 IPv6 ranges across the 64-bit word carry")
    func containsV6() {
        // The span crosses from high = 0 to high = 1 halfway through.
        let base = ip("::ffff:ffff:ffff:ffff").advanced(by: -(Self.rangeCount / 2 * Self.slotSize))
        Self.check(Layout(base: base, seed: 200), seed: 201)
    }

    @Test("builds 100,000 ranges one include at a time, then removes every other one")
    func incrementalBuild() {
        let layout = Layout(base: ip("10.0.0.0"), seed: 300)
        let ranges = layout.ranges
        var set = IPRangeSet()
        // In ascending order each include lands at the end: O(log n) each.
        for range in ranges { set.include(range) }
        #expect(set.ranges == ranges)
        // Excluding from the back keeps each removal's shift short.
        for index in stride(from: ranges.count - 1, through: 0, by: -2) {
            set.exclude(ranges[index])
        }
        #expect(set.ranges.count == Self.rangeCount / 2)
        #expect(set.ranges == stride(from: 0, to: ranges.count, by: 2).map { ranges[$0] })

        // Bulk set operations are one merge pass each.
        var union = set
        union.include(IPRangeSet(ranges: ranges))
        #expect(union.ranges == ranges)
        var difference = IPRangeSet(ranges: ranges)
        difference.exclude(set)
        #expect(difference.ranges == stride(from: 1, to: ranges.count, by: 2).map { ranges[$0] })
        #expect(set.relation(to: union) == .subset)
        #expect(set.relation(to: difference) == .disjoint)
    }
}
