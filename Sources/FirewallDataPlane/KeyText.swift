import FirewallSessions

/// Reads the fields of a netlink key back as nft text (each field padded to 4 bytes, addresses in
/// network order): for messages and for deleting kernel-filled elements by name.
struct KeyText {
    private let bytes: [UInt8]
    private let group: SetGroup
    private var offset = 0

    init(_ bytes: [UInt8], group: SetGroup) {
        self.bytes = bytes
        self.group = group
    }

    /// An address of the group's family.
    mutating func address() -> String {
        defer { offset += group.addressLength }
        guard offset + group.addressLength <= bytes.count else { return "?" }
        if group.family == .v4 {
            return bytes[offset..<offset + 4].map(String.init).joined(separator: ".")
        }
        let value = bytes[offset..<offset + 16].reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
        return IPAddress(v6: UInt64(truncatingIfNeeded: value >> 64), UInt64(truncatingIfNeeded: value)).description
    }

    /// A port (or any 2-byte field) in its 4-byte register.
    mutating func port() -> String {
        defer { offset += 4 }
        guard offset + 2 <= bytes.count else { return "?" }
        return String(UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]))
    }

    /// An IP protocol number in its 4-byte register.
    mutating func protocolNumber() -> String {
        defer { offset += 4 }
        return offset < bytes.count ? String(bytes[offset]) : "?"
    }

    /// The fields of a bind key: (address,) protocol, port.
    mutating func bindFields() -> [String] {
        var fields: [String] = []
        if !group.wildcard { fields.append(address()) }
        fields.append(protocolNumber())
        fields.append(port())
        return fields
    }
}
