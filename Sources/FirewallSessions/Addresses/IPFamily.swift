/// The address family of an ``IPAddress``: IPv4 or IPv6.
///
/// The two families are separate address spaces. An IPv4-mapped IPv6 address
/// such as `::ffff:192.0.2.1` is a second name for the IPv4 address
/// `192.0.2.1` (a dual-stack socket reports IPv4 peers that way), so the
/// parsers read it as IPv4: one address, one identity, in binds, decisions,
/// client addresses and filters alike. See ``IPAddress/unmapped``.
public enum IPFamily: Sendable, Hashable, CustomStringConvertible {
    /// IPv4: 32-bit addresses.
    case v4
    /// IPv6: 128-bit addresses.
    case v6

    /// The number of bits in an address of this family: 32 or 128.
    public var bitWidth: Int {
        switch self {
        case .v4: 32
        case .v6: 128
        }
    }

    /// `"IPv4"` or `"IPv6"`, for messages.
    public var description: String {
        switch self {
        case .v4: "IPv4"
        case .v6: "IPv6"
        }
    }

    /// The largest address value of the family, as a 128-bit number.
    var maxValue: UInt128 {
        switch self {
        case .v4: UInt128(UInt32.max)
        case .v6: UInt128.max
        }
    }
}
