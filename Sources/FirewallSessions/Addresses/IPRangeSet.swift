/// A set of addresses, kept as sorted, disjoint, coalesced ranges: the value
/// behind an IP filter (IFWXIpFilter).
///
/// The representation is normalised, so two sets hold the same addresses
/// exactly when their ``ranges`` are equal, and `==` is set equality
/// (IFWXIpFilter::Compare). IPv4 ranges come first, then IPv6 ranges, each in
/// ascending order; no two ranges overlap or touch (`10.0.0.0-10.0.0.5` and
/// `10.0.0.6` are stored as one range). The families never merge:
/// `255.255.255.255` and `::` are not neighbours.
///
/// The empty set contains nothing: a bind restricted by an empty filter
/// accepts no peer. (A bind with no filter at all accepts every peer; that is
/// the caller's `nil`, not a set.)
///
/// Cost, for a set of n ranges: ``contains(_:)`` is a binary search,
/// O(log n) without allocating; including or excluding one range finds its
/// place in O(log n) and then shifts the array, O(n) at worst; the operations
/// with another set of m ranges are one merge pass, O(n + m).
public struct IPRangeSet: Sendable, Hashable {
    /// The normalised ranges: IPv4 then IPv6, ascending, disjoint and never
    /// adjacent.
    public private(set) var ranges: [IPRange]

    /// The empty set.
    public init() {
        ranges = []
    }

    /// The union of `ranges`, in any order, overlapping or not.
    public init(ranges: some Sequence<IPRange>) {
        // Sort then coalesce: O(n log n), where including them one by one
        // could shift the array n times.
        let sorted = ranges.sorted { $0.lower < $1.lower }
        var normalised: [IPRange] = []
        normalised.reserveCapacity(sorted.count)
        for range in sorted {
            Self.appendCoalescing(range, to: &normalised)
        }
        self.ranges = normalised
    }

    /// Whether the set holds no address.
    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether `address` is in the set (IFWXIpFilter::IsIncluded).
    ///
    /// A binary search for the last range starting at or before the address;
    /// no allocation, so the data plane's per-packet question stays cheap.
    public func contains(_ address: IPAddress) -> Bool {
        var low = 0
        var high = ranges.count
        // Invariant: ranges[..<low] start at or before address,
        // ranges[high...] start after it.
        while low < high {
            let middle = low + (high - low) / 2
            if ranges[middle].lower <= address {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low > 0 && address <= ranges[low - 1].upper
    }

    /// Adds every address of `range` (IFWXIpFilter::IncludeRange).
    public mutating func include(_ range: IPRange) {
        // Ranges ending at or after the address just below `range` touch or
        // overlap it from the left; ranges starting at or before the address
        // just above it touch or overlap it from the right. At the ends of
        // the family's space there is no such neighbour, and the range's own
        // end is the bound; the other family never qualifies because every
        // IPv4 address sorts below every IPv6 one.
        let leftBound = range.lower.predecessor ?? range.lower
        let rightBound = range.upper.successor ?? range.upper
        let first = firstIndex { $0.upper >= leftBound }
        let end = firstIndex { $0.lower > rightBound }
        guard first < end else {
            ranges.insert(range, at: first)
            return
        }
        let merged = IPRange(
            unchecked: min(range.lower, ranges[first].lower),
            max(range.upper, ranges[end - 1].upper)
        )
        ranges.replaceSubrange(first..<end, with: CollectionOfOne(merged))
    }

    /// Removes every address of `range` (IFWXIpFilter::ExcludeRange).
    public mutating func exclude(_ range: IPRange) {
        let first = firstIndex { $0.upper >= range.lower }
        let end = firstIndex { $0.lower > range.upper }
        guard first < end else { return }

        // Only the first and last overlapping ranges can stick out past the
        // excluded range; what sticks out survives.
        var kept: [IPRange] = []
        let head = ranges[first]
        if head.lower < range.lower, let beforeRange = range.lower.predecessor {
            kept.append(IPRange(unchecked: head.lower, beforeRange))
        }
        let tail = ranges[end - 1]
        if tail.upper > range.upper, let afterRange = range.upper.successor {
            kept.append(IPRange(unchecked: afterRange, tail.upper))
        }
        ranges.replaceSubrange(first..<end, with: kept)
    }

    /// Adds every address of `other` (IFWXIpFilter::IncludeFilter): the union.
    public mutating func include(_ other: IPRangeSet) {
        guard !other.isEmpty else { return }
        guard !isEmpty else {
            self = other
            return
        }
        var merged: [IPRange] = []
        merged.reserveCapacity(ranges.count + other.ranges.count)
        var mine = ranges.makeIterator()
        var theirs = other.ranges.makeIterator()
        var nextMine = mine.next()
        var nextTheirs = theirs.next()
        // A merge of two sorted lists, coalescing as it goes.
        while true {
            let next: IPRange
            if let a = nextMine, let b = nextTheirs {
                if a.lower <= b.lower {
                    next = a
                    nextMine = mine.next()
                } else {
                    next = b
                    nextTheirs = theirs.next()
                }
            } else if let a = nextMine {
                next = a
                nextMine = mine.next()
            } else if let b = nextTheirs {
                next = b
                nextTheirs = theirs.next()
            } else {
                break
            }
            Self.appendCoalescing(next, to: &merged)
        }
        ranges = merged
    }

    /// Removes every address of `other` (IFWXIpFilter::ExcludeFilter): the
    /// difference.
    public mutating func exclude(_ other: IPRangeSet) {
        guard !isEmpty, !other.isEmpty else { return }
        let removing = other.ranges
        var kept: [IPRange] = []
        kept.reserveCapacity(ranges.count + removing.count)
        var next = 0  // the first range of `removing` that may still matter
        for range in ranges {
            while next < removing.count, removing[next].upper < range.lower {
                next += 1
            }
            // What is left of `range` starts at `start`; nil once nothing is.
            var start: IPAddress? = range.lower
            var index = next
            while let from = start, index < removing.count, removing[index].lower <= range.upper {
                let hole = removing[index]
                if hole.lower > from, let beforeHole = hole.lower.predecessor {
                    kept.append(IPRange(unchecked: from, beforeHole))
                }
                if hole.upper >= range.upper {
                    // This hole may reach into the next range too, so it
                    // stays the next one to look at.
                    start = nil
                } else {
                    start = hole.upper.successor
                    index += 1
                }
            }
            if let start {
                kept.append(IPRange(unchecked: start, range.upper))
            }
            next = index
        }
        ranges = kept
    }

    /// The index of the first range for which `isAtOrPast` holds, or
    /// `ranges.count`; `isAtOrPast` must be false then true along the array.
    private func firstIndex(where isAtOrPast: (IPRange) -> Bool) -> Int {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = low + (high - low) / 2
            if isAtOrPast(ranges[middle]) {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }

    /// Appends a range that starts at or after the last one's start, merging
    /// it into the last when the two overlap or touch.
    private static func appendCoalescing(_ range: IPRange, to ranges: inout [IPRange]) {
        guard let last = ranges.last, last.family == range.family,
            range.lower <= last.upper || last.upper.successor == range.lower
        else {
            ranges.append(range)
            return
        }
        if range.upper > last.upper {
            ranges[ranges.count - 1] = IPRange(unchecked: last.lower, range.upper)
        }
    }
}

extension IPRangeSet: CustomStringConvertible {
    /// The ranges' normalised texts in brackets, for logs and test failures:
    /// `"[10.0.0.0/24, 192.0.2.7-192.0.2.9]"`.
    public var description: String {
        "[" + ranges.map(\.description).joined(separator: ", ") + "]"
    }
}
