/// The address family of an ``IPAddress``: IPv4 or IPv6.
///
/// The two families are separate address spaces. An IPv4-mapped IPv6 address
/// such as `::ffff:192.0.2.1` is an IPv6 address; nothing here equates it with
/// `192.0.2.1`, because a data plane that reports one or the other is telling
/// us which socket family the traffic came in on.
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
