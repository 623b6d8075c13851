extension IPAddress {
    /// Reads an address from its text, or returns nil if the text is not one.
    ///
    /// Accepts dotted-quad IPv4 (`"198.51.100.7"`) and IPv6 text as RFC 4291
    /// section 2.2 allows it (`"2001:db8::1"`, `"::ffff:192.0.2.1"`; the last
    /// is read as the IPv4 address `192.0.2.1`, see ``unmapped``). See
    /// ``parse(_:)`` for what is refused and why.
    public init?(_ text: some StringProtocol) {
        guard case .success(let address) = IPAddress.parse(text) else { return nil }
        self = address
    }

    /// Reads an address from its text, saying why when it is not one.
    ///
    /// Strict on purpose, because an address that was misread becomes a rule
    /// that silently matches the wrong peers:
    /// - no leading zeros in IPv4 octets (`"010.0.0.1"`), which some parsers
    ///   read as octal;
    /// - no zone ids (`"fe80::1%eth0"`): an interface name means nothing to a
    ///   control plane that serves several gateways;
    /// - no surrounding spaces and no brackets (brackets belong to
    ///   ``SocketAddress``, where they separate the port);
    /// - IPv6 groups of 1 to 4 hex digits, at most one `::`, which must stand
    ///   for at least one group, and an embedded IPv4 part only at the end.
    ///
    /// An IPv4-mapped IPv6 address is returned as the IPv4 address it names.
    public static func parse(_ text: some StringProtocol) -> Result<IPAddress, AddressParseError> {
        // The longest valid text, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
        // is 45 bytes; refuse anything far longer before copying it.
        let utf8 = text.utf8
        guard utf8.count <= 64 else { return .failure(.notAnAddress) }
        return parse(bytes: Array(utf8)[...])
    }

    /// Parses the UTF-8 bytes of an address, IPv4-mapped ones as IPv4; shared
    /// with the socket-address and range parsers, which hand over slices of
    /// their own input.
    static func parse(bytes: ArraySlice<UInt8>) -> Result<IPAddress, AddressParseError> {
        parseAsWritten(bytes: bytes).map(\.unmapped)
    }

    /// Parses the UTF-8 bytes of an address in the family it is written in:
    /// for the checks that depend on how it was written (brackets, CIDR
    /// prefix lengths) before ``unmapped`` gives it its one identity.
    static func parseAsWritten(bytes: ArraySlice<UInt8>) -> Result<IPAddress, AddressParseError> {
        guard let first = bytes.first, let last = bytes.last else { return .failure(.empty) }
        if ASCII.isSpace(first) || ASCII.isSpace(last) { return .failure(.surroundingSpaces) }
        if bytes.contains(ASCII.percent) { return .failure(.zoneID) }
        if first == ASCII.openBracket || last == ASCII.closeBracket { return .failure(.unexpectedBrackets) }
        if bytes.contains(ASCII.colon) {
            return parseV6(bytes).map { IPAddress(family: .v6, value: $0) }
        }
        return parseV4(bytes).map { IPAddress(v4: $0) }
    }

    /// Parses a dotted quad into its 32-bit value.
    ///
    /// A malformed shape is reported before a bad octet, so that
    /// `"1.2.3"` reads "not an address" rather than something about octets.
    static func parseV4(_ bytes: ArraySlice<UInt8>) -> Result<UInt32, AddressParseError> {
        var value: UInt32 = 0
        var parts = 0
        var sawLeadingZero = false
        var sawTooLarge = false
        var partStart = bytes.startIndex
        var index = bytes.startIndex
        while true {
            let atEnd = index == bytes.endIndex
            if atEnd || bytes[index] == ASCII.dot {
                parts += 1
                guard parts <= 4 else { return .failure(.notAnAddress) }
                switch StrictDecimal.parse(bytes[partStart..<index], maximum: 255) {
                case .success(let octet): value = value << 8 | UInt32(octet)
                case .failure(.notDecimal): return .failure(.notAnAddress)
                case .failure(.leadingZero): sawLeadingZero = true
                case .failure(.tooLarge): sawTooLarge = true
                }
                if atEnd { break }
                partStart = index + 1
            }
            index += 1
        }
        guard parts == 4 else { return .failure(.notAnAddress) }
        if sawLeadingZero { return .failure(.leadingZeroOctet) }
        if sawTooLarge { return .failure(.octetOutOfRange) }
        return .success(value)
    }

    /// Parses IPv6 text into its 128-bit value.
    static func parseV6(_ bytes: ArraySlice<UInt8>) -> Result<UInt128, AddressParseError> {
        // Locate the one allowed "::"; ":::" holds two overlapping ones and
        // is refused by the same check.
        var doubleColon: Int?
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            if bytes[index] == ASCII.colon, bytes[index + 1] == ASCII.colon {
                guard doubleColon == nil else { return .failure(.notAnAddress) }
                doubleColon = index
            }
            index += 1
        }

        guard let doubleColon else {
            return parseGroups(bytes, embeddedV4Allowed: true).flatMap { groups in
                groups.count == 8 ? .success(groups.value) : .failure(.notAnAddress)
            }
        }
        let head = parseGroups(bytes[bytes.startIndex..<doubleColon], embeddedV4Allowed: false)
        let tail = parseGroups(bytes[(doubleColon + 2)...], embeddedV4Allowed: true)
        return head.flatMap { head in
            tail.flatMap { tail in
                // "::" must stand for at least one zero group (RFC 4291 2.2;
                // glibc's inet_pton agrees), so at most 7 explicit ones.
                guard head.count + tail.count <= 7 else { return .failure(.notAnAddress) }
                return .success(head.value << (16 * (8 - head.count)) | tail.value)
            }
        }
    }

    /// Parses colon-separated hex groups (and a final dotted quad when
    /// allowed), returning their value right-aligned and how many 16-bit
    /// groups they fill. An empty slice is zero groups.
    private static func parseGroups(
        _ bytes: ArraySlice<UInt8>,
        embeddedV4Allowed: Bool
    ) -> Result<(value: UInt128, count: Int), AddressParseError> {
        guard !bytes.isEmpty else { return .success((0, 0)) }
        var value: UInt128 = 0
        var count = 0
        var partStart = bytes.startIndex
        var index = bytes.startIndex
        while true {
            let atEnd = index == bytes.endIndex
            if atEnd || bytes[index] == ASCII.colon {
                let part = bytes[partStart..<index]
                if part.contains(ASCII.dot) {
                    // A dotted quad fills the last 32 bits, so only the very
                    // last part of the whole address may be one.
                    guard embeddedV4Allowed, atEnd else { return .failure(.notAnAddress) }
                    switch parseV4(part) {
                    case .success(let v4): value = value << 32 | UInt128(v4)
                    case .failure(let error): return .failure(error)
                    }
                    count += 2
                } else {
                    guard let group = hexGroup(part) else { return .failure(.notAnAddress) }
                    value = value << 16 | UInt128(group)
                    count += 1
                }
                guard count <= 8 else { return .failure(.notAnAddress) }
                if atEnd { break }
                partStart = index + 1
            }
            index += 1
        }
        return .success((value, count))
    }

    /// One to four hex digits, either case.
    private static func hexGroup(_ bytes: ArraySlice<UInt8>) -> UInt16? {
        guard (1...4).contains(bytes.count) else { return nil }
        var group: UInt16 = 0
        for byte in bytes {
            guard let digit = Hex.value(of: byte) else { return nil }
            group = group << 4 | UInt16(digit)
        }
        return group
    }
}
