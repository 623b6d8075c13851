import FirewallSessions

/// Where a bind receives, as the kernel's sets key it: address (none for a wildcard bind), IP
/// protocol and port, in one of four set groups (IPv4/IPv6 × specific/wildcard).
struct BindKey: Hashable, Sendable {
    var family: IPFamily
    /// Nil for a wildcard bind (`0.0.0.0:P`, `[::]:P`): it matches every local address of its family.
    var address: IPAddress?
    var transport: TransportProtocol
    var port: UInt16

    init(_ bind: Bind) {
        family = bind.address.ip.family
        address = bind.address.isWildcard ? nil : bind.address.ip
        transport = bind.transport
        port = bind.address.port
    }

    /// The group of sets and chains this key belongs to.
    var group: SetGroup { SetGroup(family: family, wildcard: address == nil) }

    /// The IP protocol number (what `meta l4proto` yields).
    var protocolNumber: UInt8 { transport == .tcp ? 6 : 17 }

    /// The key as netlink bytes: each field of the concatenation in network order, padded to 4
    /// bytes (nftables keeps concatenated fields in 32-bit registers).
    var bytes: [UInt8] {
        var bytes: [UInt8] = []
        if let address { bytes += address.networkBytes }
        bytes += [protocolNumber, 0, 0, 0]
        bytes += [UInt8(port >> 8), UInt8(port & 0xFF), 0, 0]
        return bytes
    }
}

/// One of the four groups of sets: IPv4 or IPv6, specific or wildcard binds.
struct SetGroup: Hashable, Sendable, CaseIterable {
    var family: IPFamily
    var wildcard: Bool

    static let allCases = [
        SetGroup(family: .v4, wildcard: false), SetGroup(family: .v4, wildcard: true),
        SetGroup(family: .v6, wildcard: false), SetGroup(family: .v6, wildcard: true),
    ]

    /// `4`, `w4`, `6`, `w6`: the suffix of its sets' and chains' names.
    var suffix: String { (wildcard ? "w" : "") + (family == .v4 ? "4" : "6") }

    /// The set of `kind` in this group (`bound4`, `wpeer6`, ...).
    func set(_ kind: SetKind) -> String { kind.rawValue + suffix }

    /// nft's name of the address type.
    var addressType: String { family == .v4 ? "ipv4_addr" : "ipv6_addr" }
    /// nft's payload expression prefix (`ip`, `ip6`).
    var payload: String { family == .v4 ? "ip" : "ip6" }
    /// `meta nfproto` value of the family.
    var nfproto: String { family == .v4 ? "ipv4" : "ipv6" }
    /// Netlink key length of a bind key of this group.
    var keyLength: Int { (wildcard ? 0 : addressLength) + 8 }
    /// Netlink key length of a recent peer of this group: (bound address,) port, peer, peer port.
    var recentKeyLength: Int { (wildcard ? 0 : addressLength) + 4 + addressLength + 4 }
    /// Bytes of one address.
    var addressLength: Int { family == .v4 ? 4 : 16 }
}

/// The sets every group has.
enum SetKind: String, Sendable, CaseIterable {
    /// Every bind (with a counter): all packets to or from it.
    case bound
    /// Every bind (with a counter): the packets discarded for it.
    case drop
    /// Allowed binds without an IP filter: every peer is accepted.
    case open
    /// Allowed binds with a filter: (bind, single peer address) pairs.
    case peer
    /// Allowed binds with a filter: (bind, peer address range) pairs (an interval set).
    case range
    /// Allowed bidirectional UDP binds.
    case bidir
    /// Peers that recently sent to a bidirectional bind (filled by the kernel, with a timeout).
    case recent

    /// Sets fwsessiond fills itself (the recent peers are filled by the kernel).
    static let owned: [SetKind] = [.bound, .drop, .open, .peer, .range, .bidir]
}

extension IPAddress {
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    var networkBytes: [UInt8] {
        if let v4 = v4Value { return withUnsafeBytes(of: v4.bigEndian, Array.init) }
        return withUnsafeBytes(of: high.bigEndian, Array.init) + withUnsafeBytes(of: low.bigEndian, Array.init)
    }
}
