@testable import FirewallSessions

/// Test-side address arithmetic, deliberately not using the module's own
/// `successor` / `value` helpers, so that a bug there cannot hide itself.
extension IPAddress {
    /// The address `offset` places after this one (negative: before), in the
    /// same family; traps if that leaves the family's space.
    func advanced(by offset: Int) -> IPAddress {
        let value = UInt128(high) << 64 | UInt128(low)
        let moved = offset >= 0 ? value + UInt128(offset) : value - UInt128(-offset)
        switch family {
        case .v4:
            return IPAddress(v4: UInt32(moved))
        case .v6:
            return IPAddress(v6: UInt64(truncatingIfNeeded: moved >> 64), UInt64(truncatingIfNeeded: moved))
        }
    }

    /// The distance from `base` to this address, when the two are of one
    /// family and it fits in an `Int`.
    func offset(from base: IPAddress) -> Int? {
        guard family == base.family else { return nil }
        let value = UInt128(high) << 64 | UInt128(low)
        let baseValue = UInt128(base.high) << 64 | UInt128(base.low)
        if value >= baseValue {
            return value - baseValue <= UInt128(Int.max) ? Int(value - baseValue) : nil
        }
        return baseValue - value <= UInt128(Int.max) ? -Int(baseValue - value) : nil
    }
}

/// Parses test literals; a typo in a test table traps instead of hiding.
func ip(_ text: String) -> IPAddress {
    guard let address = IPAddress(text) else { fatalError("bad test address \(text)") }
    return address
}

/// Parses test literals for ranges.
func ipRange(_ text: String) -> IPRange {
    switch IPRange.parse(text) {
    case .success(let range): return range
    case .failure(let error): fatalError("bad test range \(text): \(error)")
    }
}

/// A set from range texts.
func ipRangeSet(_ texts: String...) -> IPRangeSet {
    IPRangeSet(ranges: texts.map(ipRange))
}

/// Checks the promises of the normalised form: one family per range,
/// lower <= upper, IPv4 before IPv6, ascending, no overlap, no adjacency.
/// Returns a description of the first broken promise, or nil.
func normalisationProblem(_ set: IPRangeSet) -> String? {
    var previous: IPRange?
    for range in set.ranges {
        guard range.lower.family == range.upper.family else { return "mixed range \(range)" }
        guard range.lower <= range.upper else { return "reversed range \(range)" }
        if let previous {
            if previous.lower.family == .v6, range.lower.family == .v4 { return "v6 before v4" }
            if previous.lower.family == range.lower.family {
                guard previous.upper < range.lower else { return "unsorted or overlapping \(previous), \(range)" }
                if range.lower.offset(from: previous.upper) == 1 { return "adjacent \(previous), \(range)" }
            }
        }
        previous = range
    }
    return nil
}
