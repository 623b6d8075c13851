/// An inclusive range of addresses of one family, `lower...upper`.
///
/// This is the unit an IP filter is built from (IFWXIpFilter::IncludeRange
/// takes one). Its text is a single address, a CIDR block or `lower-upper`;
/// see ``parse(_:)`` and ``description``.
public struct IPRange: Sendable, Hashable {
    /// The first address in the range.
    ///
    /// Read-only from outside, like ``upper``: the two are only valid
    /// together (same family, `lower <= upper`), so they change only through
    /// the initialisers.
    public private(set) var lower: IPAddress
    /// The last address in the range, included.
    public private(set) var upper: IPAddress

    /// A range from `lower` to `upper` inclusive, or nil when the two are of
    /// different families or `lower > upper`.
    public init?(lower: IPAddress, upper: IPAddress) {
        guard lower.family == upper.family, lower <= upper else { return nil }
        self.lower = lower
        self.upper = upper
    }

    /// The range holding exactly one address.
    public init(single address: IPAddress) {
        self.lower = address
        self.upper = address
    }

    /// The CIDR block `network/prefixLength`, or nil when the prefix length is
    /// outside 0...32 (IPv4) or 0...128 (IPv6), or `network` has host bits set.
    public init?(network: IPAddress, prefixLength: Int) {
        let family = network.family
        guard (0...family.bitWidth).contains(prefixLength) else { return nil }
        let hostMask = Self.hostMask(family: family, prefixLength: prefixLength)
        guard network.value & hostMask == 0 else { return nil }
        self.lower = network
        self.upper = IPAddress(family: family, value: network.value | hostMask)
    }

    /// A range the caller has already checked (same family, ordered); the set
    /// algorithms build many and must not pay for, or fail on, the checks.
    init(unchecked lower: IPAddress, _ upper: IPAddress) {
        assert(lower.family == upper.family && lower <= upper, "malformed range")
        self.lower = lower
        self.upper = upper
    }

    /// The family of both ends.
    public var family: IPFamily { lower.family }

    /// Whether `address` is in the range. An address of the other family
    /// never is.
    public func contains(_ address: IPAddress) -> Bool {
        lower <= address && address <= upper
    }

    /// The prefix length when the range is exactly one CIDR block
    /// (`198.51.100.0/24` gives 24; a single address gives 32 or 128),
    /// otherwise nil.
    public var prefixLength: Int? {
        // A block is lower..upper where the two differ exactly in a run of
        // trailing bits that are all 0 in lower and all 1 in upper.
        let difference = lower.value ^ upper.value
        guard difference & (difference &+ 1) == 0,
            lower.value & difference == 0
        else { return nil }
        return lower.family.bitWidth - (UInt128.bitWidth - difference.leadingZeroBitCount)
    }

    /// The bits of an address of `family` below a prefix of `prefixLength`.
    static func hostMask(family: IPFamily, prefixLength: Int) -> UInt128 {
        let hostBits = family.bitWidth - prefixLength
        // Shifting by the full width is where hand-written masks go wrong;
        // spell out the all-ones case instead of relying on shift semantics.
        return hostBits == 128 ? UInt128.max : (UInt128(1) << hostBits) - 1
    }
}

extension IPRange: CustomStringConvertible {
    /// The normalised text: the address alone when the range holds one
    /// address, `"network/n"` when it is exactly one CIDR block, otherwise
    /// `"lower-upper"`.
    ///
    /// One range has one text, so filters can be compared and shown as
    /// strings.
    public var description: String {
        if lower == upper { return lower.description }
        if let prefixLength { return "\(lower)/\(prefixLength)" }
        return "\(lower)-\(upper)"
    }
}

extension IPRange {
    /// Reads a range from its text, or returns nil; see ``parse(_:)``.
    public init?(_ text: some StringProtocol) {
        guard case .success(let range) = IPRange.parse(text) else { return nil }
        self = range
    }

    /// Reads `"198.51.100.7"`, `"198.51.100.0/24"`, `"2001:db8::/32"` or
    /// `"192.0.2.7-192.0.2.9"`, saying why when it cannot.
    ///
    /// Addresses follow ``IPAddress/parse(_:)``. A CIDR prefix is a decimal
    /// number without leading zeros, in 0...32 or 0...128. A CIDR block whose
    /// address has host bits set is refused with the block the caller
    /// probably meant, rather than silently masked: `198.51.100.7/24` is as
    /// likely a typo for `198.51.100.7/32` as for `198.51.100.0/24`. The two
    /// ends of `lower-upper` must be of one family, `lower <= upper`.
    public static func parse(_ text: some StringProtocol) -> Result<IPRange, AddressParseError> {
        let utf8 = text.utf8
        // Two maximal IPv6 texts and a hyphen are 91 bytes.
        guard utf8.count <= 128 else { return .failure(.notAnAddress) }
        let bytes = Array(utf8)[...]
        guard let first = bytes.first, let last = bytes.last else { return .failure(.emptyRange) }
        if ASCII.isSpace(first) || ASCII.isSpace(last) { return .failure(.surroundingSpaces) }

        if let hyphen = bytes.firstIndex(of: ASCII.hyphen) {
            return parseSpan(lower: bytes[..<hyphen], upper: bytes[(hyphen + 1)...])
        }
        if let slash = bytes.firstIndex(of: ASCII.slash) {
            return parseCIDR(address: bytes[..<slash], prefix: bytes[(slash + 1)...])
        }
        return IPAddress.parse(bytes: bytes).map { IPRange(single: $0) }
    }

    private static func parseSpan(
        lower lowerText: ArraySlice<UInt8>,
        upper upperText: ArraySlice<UInt8>
    ) -> Result<IPRange, AddressParseError> {
        IPAddress.parse(bytes: lowerText).flatMap { lower in
            IPAddress.parse(bytes: upperText).flatMap { upper in
                guard lower.family == upper.family else { return .failure(.mixedFamilies) }
                guard lower <= upper else { return .failure(.reversedRange) }
                return .success(IPRange(unchecked: lower, upper))
            }
        }
    }

    private static func parseCIDR(
        address addressText: ArraySlice<UInt8>,
        prefix prefixText: ArraySlice<UInt8>
    ) -> Result<IPRange, AddressParseError> {
        IPAddress.parse(bytes: addressText).flatMap { address in
            let family = address.family
            let prefixLength: Int
            switch StrictDecimal.parse(prefixText, maximum: family.bitWidth) {
            case .success(let parsed): prefixLength = parsed
            case .failure(.notDecimal): return .failure(.prefixNotDecimal)
            case .failure(.leadingZero): return .failure(.prefixLeadingZero)
            case .failure(.tooLarge): return .failure(.prefixOutOfRange(family))
            }
            let hostMask = hostMask(family: family, prefixLength: prefixLength)
            guard address.value & hostMask == 0 else {
                let network = IPAddress(family: family, value: address.value & ~hostMask)
                return .failure(AddressParseError(reason: "host bits set; did you mean \(network)/\(prefixLength)?"))
            }
            return .success(IPRange(unchecked: address, IPAddress(family: family, value: address.value | hostMask)))
        }
    }
}

extension AddressParseError {
    static let emptyRange = AddressParseError(reason: "range is empty")
    static let mixedFamilies = AddressParseError(reason: "both ends of a range must be of the same family")
    static let reversedRange = AddressParseError(reason: "range start must not be after its end")
    static let prefixNotDecimal = AddressParseError(reason: "prefix length must be a decimal number")
    static let prefixLeadingZero = AddressParseError(reason: "prefix length must not have leading zeros")

    static func prefixOutOfRange(_ family: IPFamily) -> AddressParseError {
        AddressParseError(reason: "\(family) prefix length must be in 0...\(family.bitWidth)")
    }
}
