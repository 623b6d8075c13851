/// An IPv4 or IPv6 address: a 128-bit number plus its family.
///
/// IPv4 addresses live in the low 32 bits (`high == 0`, `low <= UInt32.max`),
/// so one compact value type (17 bytes, no heap) serves both families and
/// sorts and hashes without branching on the family more than once.
///
/// Read one with ``init(_:)`` or ``parse(_:)``; ``description`` writes the
/// canonical text (dotted quad, or RFC 5952 for IPv6).
public struct IPAddress: Sendable, Hashable {
    // Stored high, low, family in this order so the struct is 17 bytes
    // (stride 24); putting the 1-byte family first would pad it to 24.

    /// The upper 64 bits of the 128-bit value; always 0 for IPv4.
    ///
    /// Read-only from outside: a settable field would let callers build an
    /// IPv4 address with bits above 32, which would break ordering and
    /// equality.
    public private(set) var high: UInt64
    /// The lower 64 bits of the 128-bit value; an IPv4 address is `low`'s
    /// lower 32 bits.
    public private(set) var low: UInt64
    /// Whether this is an IPv4 or an IPv6 address.
    public private(set) var family: IPFamily

    /// An IPv4 address from its 32-bit value in host order
    /// (`0xC633_6407` is `198.51.100.7`).
    public init(v4 value: UInt32) {
        self.high = 0
        self.low = UInt64(value)
        self.family = .v4
    }

    /// An IPv6 address from its upper and lower 64 bits
    /// (`IPAddress(v6: 0x2001_0db8_0000_0000, 1)` is `2001:db8::1`).
    public init(v6 high: UInt64, _ low: UInt64) {
        self.high = high
        self.low = low
        self.family = .v6
    }

    /// An address of `family` from its value; the caller guarantees that the
    /// value fits the family (at most ``IPFamily/maxValue``).
    init(family: IPFamily, value: UInt128) {
        precondition(value <= family.maxValue, "address value too large for its family")
        self.high = UInt64(truncatingIfNeeded: value >> 64)
        self.low = UInt64(truncatingIfNeeded: value)
        self.family = family
    }

    /// Whether this is the unspecified address (`0.0.0.0` or `::`), which a
    /// bind uses as the wildcard meaning "every local address".
    public var isUnspecified: Bool { high == 0 && low == 0 }

    /// The IPv4 value, or nil for an IPv6 address.
    public var v4Value: UInt32? {
        family == .v4 ? UInt32(truncatingIfNeeded: low) : nil
    }

    /// Whether this is an IPv6 value in the IPv4-mapped block `::ffff:0:0/96`.
    ///
    /// The parsers never return one (see ``unmapped``); values built with
    /// ``init(v6:_:)``, and the ends of an IPv6 range that only partly covers
    /// the block, can be.
    public var isIPv4Mapped: Bool { family == .v6 && high == 0 && low >> 32 == 0xffff }

    /// The IPv4 address an IPv4-mapped IPv6 address names; any other address
    /// unchanged.
    ///
    /// `::ffff:203.0.113.10` is what a dual-stack socket reports for a peer
    /// at `203.0.113.10`: the same host, so it must be the same bind, the
    /// same client address and the same filter entry. Every parser returns
    /// this form, so one address has one identity.
    public var unmapped: IPAddress {
        isIPv4Mapped ? IPAddress(v4: UInt32(truncatingIfNeeded: low)) : self
    }

    /// The 128-bit value; an IPv4 address occupies the low 32 bits.
    var value: UInt128 { UInt128(high) << 64 | UInt128(low) }

    /// The next address of the same family, or nil at the top of the family
    /// (`255.255.255.255`, `ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff`).
    ///
    /// Range arithmetic needs `upper + 1`; returning nil at the end of the
    /// space, instead of wrapping, is what keeps a range that ends there from
    /// silently "touching" address 0.
    var successor: IPAddress? {
        let value = self.value
        guard value < family.maxValue else { return nil }
        return IPAddress(family: family, value: value + 1)
    }

    /// The previous address of the same family, or nil at `0.0.0.0` / `::`.
    var predecessor: IPAddress? {
        let value = self.value
        guard value > 0 else { return nil }
        return IPAddress(family: family, value: value - 1)
    }
}

extension IPAddress: Comparable {
    /// Orders every IPv4 address before every IPv6 address, then numerically.
    ///
    /// Range sets rely on this total order to keep both families in one
    /// sorted array.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .v4 }
        if lhs.high != rhs.high { return lhs.high < rhs.high }
        return lhs.low < rhs.low
    }
}
