/// An IP address with a port, as a bind's external address is written:
/// `"203.0.113.10:40000"`, `"[2001:db8::1]:40000"`.
///
/// The unspecified address stands for INADDR_ANY / in6addr_any: a bind on
/// `"0.0.0.0:P"` or `"[::]:P"` listens on every external address.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address; the unspecified address means the wildcard.
    public var ip: IPAddress
    /// The port. ``parse(_:)`` never yields 0, since a bind on port 0 asks the
    /// system to choose and so names no particular socket to approve.
    public var port: UInt16

    /// Creates a socket address. No check is made here; ``parse(_:)`` is the
    /// place that enforces the rules for text coming from outside.
    public init(ip: IPAddress, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    /// Reads a socket address from its text, or returns nil; see ``parse(_:)``.
    public init?(_ text: some StringProtocol) {
        guard case .success(let address) = SocketAddress.parse(text) else { return nil }
        self = address
    }

    /// Whether the address is the wildcard (`0.0.0.0` or `::`).
    public var isWildcard: Bool { ip.isUnspecified }

    /// `"a.b.c.d:port"` or `"[ipv6]:port"`, the address in canonical form.
    public var description: String {
        switch ip.family {
        case .v4: "\(ip):\(port)"
        case .v6: "[\(ip)]:\(port)"
        }
    }

    /// Reads `"a.b.c.d:port"` or `"[ipv6]:port"`, saying why when it cannot.
    ///
    /// The address follows ``IPAddress/parse(_:)``. An IPv6 address must be in
    /// brackets, because without them the port cannot be told from the last
    /// group (`2001:db8::1:80`). An IPv4 address must not be. An IPv4-mapped
    /// address, written as IPv6 in brackets, is read as the IPv4 address:
    /// `[::ffff:203.0.113.10]:40000` is `203.0.113.10:40000`. The port is
    /// decimal digits only (no sign, no leading zeros), in 1...65535.
    public static func parse(_ text: some StringProtocol) -> Result<SocketAddress, AddressParseError> {
        let utf8 = text.utf8
        // "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535" is 53 bytes.
        guard utf8.count <= 80 else { return .failure(.notAnAddress) }
        return parse(utf8: Array(utf8)[...])
    }

    /// `parse(_:)` on UTF-8 bytes, e.g. a slice of a request body (no copy, no `String`).
    public static func parse(utf8 bytes: ArraySlice<UInt8>) -> Result<SocketAddress, AddressParseError> {
        guard bytes.count <= 80 else { return .failure(.notAnAddress) }
        guard let first = bytes.first, let last = bytes.last else { return .failure(.empty) }
        if ASCII.isSpace(first) || ASCII.isSpace(last) { return .failure(.surroundingSpaces) }

        let host: ArraySlice<UInt8>
        let portText: ArraySlice<UInt8>?
        let bracketed = first == ASCII.openBracket
        if bracketed {
            guard let close = bytes.firstIndex(of: ASCII.closeBracket) else { return .failure(.unclosedBracket) }
            host = bytes[(bytes.startIndex + 1)..<close]
            let rest = bytes[(close + 1)...]
            if rest.isEmpty {
                portText = nil
            } else if rest.first == ASCII.colon {
                portText = rest.dropFirst()
            } else {
                // Report a bad address first: it is the likelier mistake.
                if case .failure(let error) = IPAddress.parse(bytes: host) { return .failure(error) }
                return .failure(.notAnAddress)
            }
        } else if let colon = bytes.lastIndex(of: ASCII.colon) {
            host = bytes[..<colon]
            portText = bytes[(colon + 1)...]
            if host.contains(ASCII.colon) {
                // More than one colon: an IPv6 address, with or without a
                // port after it. Say what to do if it is an address at all.
                let isV6 = parsesAsAddress(bytes) || parsesAsAddress(host)
                return .failure(isV6 ? .ipv6NeedsBrackets : .notAnAddress)
            }
        } else {
            host = bytes
            portText = nil
        }

        let written: IPAddress
        switch IPAddress.parseAsWritten(bytes: host) {
        case .success(let parsed): written = parsed
        case .failure(let error): return .failure(error)
        }
        if bracketed, written.family == .v4 { return .failure(.ipv4InBrackets) }
        let ip = written.unmapped
        guard let portText, !portText.isEmpty else { return .failure(.missingPort) }
        switch StrictDecimal.parse(portText, maximum: Int(UInt16.max)) {
        case .success(0): return .failure(.portZero)
        case .success(let port): return .success(SocketAddress(ip: ip, port: UInt16(port)))
        case .failure(.notDecimal): return .failure(.portNotDecimal)
        case .failure(.leadingZero): return .failure(.portLeadingZero)
        case .failure(.tooLarge): return .failure(.portOutOfRange)
        }
    }
}

extension AddressParseError {
    static let missingPort = AddressParseError(reason: "missing port")
    static let portZero = AddressParseError(reason: "port 0 is not allowed")
    static let portOutOfRange = AddressParseError(reason: "port must be in 1...65535")
    static let portNotDecimal = AddressParseError(reason: "port must be a decimal number")
    static let portLeadingZero = AddressParseError(reason: "port must not have leading zeros")
    static let ipv6NeedsBrackets = AddressParseError(reason: "IPv6 address must be in brackets")
    static let ipv4InBrackets = AddressParseError(reason: "IPv4 address must not be in brackets")
    static let unclosedBracket = AddressParseError(reason: "missing closing bracket")
}

/// Whether the bytes are an address; used to pick the more helpful message.
private func parsesAsAddress(_ bytes: ArraySlice<UInt8>) -> Bool {
    if case .success = IPAddress.parse(bytes: bytes) { return true }
    return false
}
