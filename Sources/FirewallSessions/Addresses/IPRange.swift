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
    ///
    /// IPv4-mapped addresses name IPv4 addresses (``IPAddress/unmapped``): a
    /// range inside `::ffff:0:0/96` is read as the IPv4 range it names
    /// (`::ffff:10.0.0.0/104` is `10.0.0.0/8`). An IPv6 range that only
    /// partly covers that block (`::/0`) stays IPv6 and holds IPv6 addresses
    /// only, since no parsed address is ever an IPv4-mapped IPv6 one.
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
        IPAddress.parseAsWritten(bytes: lowerText).flatMap { writtenLower in
            IPAddress.parseAsWritten(bytes: upperText).flatMap { writtenUpper in
                // Both ends IPv4 once unmapped: an IPv4 range, however written. Otherwise the
                // ends stay as written, so an IPv6 range's text (which may end inside the
                // mapped block after exclusions) reads back as the same range.
                let bothV4 = writtenLower.unmapped.family == .v4 && writtenUpper.unmapped.family == .v4
                let lower = bothV4 ? writtenLower.unmapped : writtenLower
                let upper = bothV4 ? writtenUpper.unmapped : writtenUpper
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
        IPAddress.parseAsWritten(bytes: addressText).flatMap { address in
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
            if address.isIPv4Mapped {
                // Host bits are zero, so a mapped network has a prefix of at least 96: the
                // block lies inside ::ffff:0:0/96 and is the IPv4 block it names.
                let network = address.unmapped
                return .success(IPRange(unchecked: network, IPAddress(family: .v4, value: network.value | hostMask)))
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
