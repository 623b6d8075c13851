/// Why a text could not be read as an address, a socket address or a range.
///
/// The reason is a short human sentence fragment meant for an API error's
/// field-level detail (for example `"port must be in 1...65535"`); it does not
/// repeat the rejected text, so that callers can put it next to the field name.
public struct AddressParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A human-readable reason, such as `"not an IPv4 or IPv6 address"`.
    public var reason: String

    /// Creates an error with the given reason.
    public init(reason: String) {
        self.reason = reason
    }

    /// The reason.
    public var description: String { reason }
}

// The reasons used by more than one parser live here so that the wording
// stays identical wherever the same mistake is reported.
extension AddressParseError {
    static let notAnAddress = AddressParseError(reason: "not an IPv4 or IPv6 address")
    static let empty = AddressParseError(reason: "address is empty")
    static let surroundingSpaces = AddressParseError(reason: "address must not have surrounding spaces")
    static let zoneID = AddressParseError(reason: "zone ids (%...) are not allowed")
    static let unexpectedBrackets = AddressParseError(reason: "brackets are only allowed around an IPv6 address with a port")
    static let leadingZeroOctet = AddressParseError(reason: "leading zeros are not allowed in IPv4 octets")
    static let octetOutOfRange = AddressParseError(reason: "IPv4 octet must be in 0...255")
}
