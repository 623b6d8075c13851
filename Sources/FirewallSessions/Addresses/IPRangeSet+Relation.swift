extension IPRangeSet {
    /// How this set relates to `other`: equal, strict subset, strict
    /// superset, disjoint (both non-empty, nothing shared) or overlapping.
    ///
    /// Linear in the two range counts and allocation-free: normalisation
    /// turns equality into comparing range lists, and containment into
    /// "every range lies inside one range of the other", because coalesced
    /// ranges leave a gap between any two of them.
    public func relation(to other: IPRangeSet) -> IPRangeSetRelation {
        if ranges == other.ranges { return .equal }
        if Self.isSubset(ranges, of: other.ranges) { return .subset }
        if Self.isSubset(other.ranges, of: ranges) { return .superset }
        if Self.intersect(ranges, other.ranges) { return .overlap }
        return .disjoint
    }

    /// Whether every range of `inner` lies within one range of `outer`.
    /// True when `inner` is empty.
    private static func isSubset(_ inner: [IPRange], of outer: [IPRange]) -> Bool {
        var index = 0
        for range in inner {
            while index < outer.count, outer[index].upper < range.lower {
                index += 1
            }
            guard index < outer.count,
                outer[index].lower <= range.lower,
                range.upper <= outer[index].upper
            else { return false }
        }
        return true
    }

    /// Whether some range of `a` shares an address with some range of `b`.
    private static func intersect(_ a: [IPRange], _ b: [IPRange]) -> Bool {
        var i = 0
        var j = 0
        while i < a.count, j < b.count {
            if a[i].upper < b[j].lower {
                i += 1
            } else if b[j].upper < a[i].lower {
                j += 1
            } else {
                return true
            }
        }
        return false
    }
}
