import Testing

@testable import FirewallSessions

/// Checks IPRangeSet against a brute-force model: a bitset over two windows
/// of 256 addresses each. Thousands of random operation sequences, from a
/// fixed seed so a failure replays, are applied to both, and after every step
/// the set must hold exactly the model's addresses in normalised form.
///
/// The windows sit where range arithmetic goes wrong: at both ends of each
/// family's space, on both sides of the IPv4/IPv6 boundary (which must not
/// coalesce), across the carry between IPv6's two 64-bit words, and side by
/// side (which must coalesce).
@Suite("IPRangeSet against a bitset model")
struct IPRangeSetModelTests {
    struct Layout: Sendable, CustomStringConvertible {
        var name: String
        var first: String
        var second: String
        var seed: UInt64
        var description: String { name }

        /// Whether the second window starts right after the first, so that
        /// ranges may span both and must coalesce across them.
        var contiguous: Bool { ip(second).offset(from: ip(first)) == 256 }
    }

    static let layouts: [Layout] = [
        Layout(name: "IPv4, apart", first: "10.0.0.0", second: "10.0.2.0", seed: 1),
        Layout(name: "IPv4, side by side", first: "10.0.0.0", second: "10.0.1.0", seed: 2),
        Layout(name: "IPv4, bottom and top", first: "0.0.0.0", second: "255.255.255.0", seed: 3),
        Layout(name: "IPv6, bottom and top", first: "::", second: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00", seed: 4),
        Layout(name: "IPv4 top, IPv6 bottom", first: "255.255.255.0", second: "::", seed: 5),
        Layout(name: "IPv6, across the word carry", first: "::ffff:ffff:ffff:ff80", second: "2001:db8::", seed: 6),
        Layout(name: "IPv6, side by side across the carry", first: "::ffff:ffff:ffff:ff00", second: "0:0:0:1::", seed: 7),
        Layout(name: "IPv4 bottom, IPv6 top", first: "0.0.0.0", second: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00", seed: 8),
    ]

    /// 512 bits, one per modelled address.
    struct Bits: Equatable {
        var words = [UInt64](repeating: 0, count: 8)

        subscript(position: Int) -> Bool {
            words[position / 64] >> (position % 64) & 1 == 1
        }

        mutating func set(_ positions: ClosedRange<Int>, to value: Bool) {
            for position in positions {
                if value {
                    words[position / 64] |= 1 << (position % 64)
                } else {
                    words[position / 64] &= ~(1 << (position % 64))
                }
            }
        }

        var isEmpty: Bool { words.allSatisfy { $0 == 0 } }
        func union(_ other: Bits) -> Bits { Bits(words: zip(words, other.words).map { $0 | $1 }) }
        func subtracting(_ other: Bits) -> Bits { Bits(words: zip(words, other.words).map { $0 & ~$1 }) }
        func intersection(_ other: Bits) -> Bits { Bits(words: zip(words, other.words).map { $0 & $1 }) }

        func relation(to other: Bits) -> IPRangeSetRelation {
            if self == other { return .equal }
            if subtracting(other).isEmpty { return .subset }
            if other.subtracting(self).isEmpty { return .superset }
            if intersection(other).isEmpty { return .disjoint }
            return .overlap
        }
    }

    /// The modelled addresses and the ones just outside them.
    struct Space {
        var layout: Layout
        var contiguous: Bool
        var addresses: [IPAddress]
        var outside: [IPAddress]

        init(_ layout: Layout) {
            self.layout = layout
            contiguous = layout.contiguous
            let bases = [ip(layout.first), ip(layout.second)]
            addresses = bases.flatMap { base in (0..<256).map { base.advanced(by: $0) } }
            let modelled = Set(addresses)
            var outside: [IPAddress] = []
            for base in bases {
                let top: UInt128 = base.family == .v4 ? UInt128(UInt32.max) : .max
                let baseValue = UInt128(base.high) << 64 | UInt128(base.low)
                if baseValue > 0 { outside.append(base.advanced(by: -1)) }
                if top - baseValue > 255 { outside.append(base.advanced(by: 256)) }
            }
            self.outside = outside.filter { !modelled.contains($0) }
        }

        /// The normalised ranges the model stands for, worked out by hand.
        func expectedRanges(_ bits: Bits) -> [IPRange] {
            var result: [(IPAddress, IPAddress)] = []
            var runStart: Int?
            for position in 0...512 {
                let inSet = position < 512 && bits[position]
                // A run ends at a window's end unless the windows are contiguous.
                let windowBreak = position == 256 && !contiguous
                if let start = runStart, !inSet || windowBreak {
                    result.append((addresses[start], addresses[position - 1]))
                    runStart = nil
                }
                if inSet, runStart == nil { runStart = position }
            }
            // The windows are in address order, and so the ranges.
            return result.compactMap { IPRange(lower: $0.0, upper: $0.1) }
        }

        func check(_ set: IPRangeSet, against bits: Bits, _ context: @autoclosure () -> String) {
            if let problem = normalisationProblem(set) {
                Issue.record("\(problem) in \(set) after \(context())")
            }
            let expected = expectedRanges(bits)
            if set.ranges != expected {
                Issue.record("got \(set), expected \(IPRangeSet(ranges: expected)) after \(context())")
                return
            }
            for (position, address) in addresses.enumerated() where set.contains(address) != bits[position] {
                Issue.record("contains(\(address)) wrong in \(set) after \(context())")
                return
            }
            for address in outside where set.contains(address) {
                Issue.record("contains(\(address)) outside the model in \(set) after \(context())")
                return
            }
        }

        /// A random range inside the windows, biased towards their edges,
        /// single addresses and whole windows.
        func randomRange(_ random: inout SplitMix64) -> (IPRange, ClosedRange<Int>) {
            func offset() -> Int {
                switch random.below(10) {
                case 0: 0
                case 1: 255
                default: random.below(256)
                }
            }
            var low = offset()
            var high = offset()
            if low > high { swap(&low, &high) }
            if random.chance(1, in: 8) { high = low }
            if random.chance(1, in: 30) { (low, high) = (0, 255) }
            var positions: ClosedRange<Int>
            if contiguous, random.chance(1, in: 6) {
                positions = low...(256 + high)
            } else {
                let window = random.below(2) * 256
                positions = (window + low)...(window + high)
            }
            guard let range = IPRange(lower: addresses[positions.lowerBound], upper: addresses[positions.upperBound]) else {
                fatalError("test built a bad range")
            }
            return (range, positions)
        }

        /// A random set of up to five ranges, built either at once or one
        /// range at a time, and its model.
        func randomSet(_ random: inout SplitMix64) -> (IPRangeSet, Bits) {
            var bits = Bits()
            var ranges: [IPRange] = []
            for _ in 0..<random.below(6) {
                let (range, positions) = randomRange(&random)
                ranges.append(range)
                bits.set(positions, to: true)
            }
            if random.chance(1, in: 2) { return (IPRangeSet(ranges: ranges), bits) }
            var set = IPRangeSet()
            for range in ranges { set.include(range) }
            return (set, bits)
        }
    }

    @Test("random operation sequences agree with the model", arguments: layouts)
    func randomSequences(layout: Layout) {
        let space = Space(layout)
        var random = SplitMix64(seed: layout.seed)
        var operationsRun = 0
        var relationsSeen = Set<String>()
        for sequence in 0..<400 {
            var (set, bits) = space.randomSet(&random)
            space.check(set, against: bits, "building sequence \(sequence)")
            var log: [String] = ["start \(set)"]
            for _ in 0..<random.inRange(1...20) {
                switch random.below(4) {
                case 0:
                    let (range, positions) = space.randomRange(&random)
                    set.include(range)
                    bits.set(positions, to: true)
                    log.append("include \(range)")
                case 1:
                    let (range, positions) = space.randomRange(&random)
                    set.exclude(range)
                    bits.set(positions, to: false)
                    log.append("exclude \(range)")
                case 2:
                    let (other, otherBits) = space.randomSet(&random)
                    set.include(other)
                    bits = bits.union(otherBits)
                    log.append("include set \(other)")
                default:
                    let (other, otherBits) = space.randomSet(&random)
                    set.exclude(other)
                    bits = bits.subtracting(otherBits)
                    log.append("exclude set \(other)")
                }
                operationsRun += 1
                space.check(set, against: bits, "sequence \(sequence): \(log.joined(separator: "; "))")

                let (other, otherBits) = space.randomSet(&random)
                let relation = set.relation(to: other)
                relationsSeen.insert(relation.rawValue)
                #expect(
                    relation == bits.relation(to: otherBits),
                    "relation of \(set) to \(other), sequence \(sequence)"
                )
                #expect(other.relation(to: set) == otherBits.relation(to: bits))
                #expect((set == other) == (bits == otherBits))
            }
        }
        #expect(operationsRun > 3_000)
        // The random sets must reach every relation, or the check is weak.
        #expect(relationsSeen == ["equal", "subset", "superset", "overlap", "disjoint"])
    }
}
