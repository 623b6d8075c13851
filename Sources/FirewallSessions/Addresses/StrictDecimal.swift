/// Reads an unsigned decimal number the strict way addresses need it.
///
/// Ports, prefix lengths and IPv4 octets share one rule: ASCII digits only
/// (no sign, no spaces, no hex), and no leading zeros (`"0"` itself is fine).
/// A leading zero is refused rather than ignored because `010` means 8 to
/// `inet_aton` and 10 to most people; accepting it would store a different
/// address than the caller meant.
enum StrictDecimal {
    /// Why a digit string was refused.
    enum Failure: Error, Equatable {
        /// Empty, or a byte that is not an ASCII digit.
        case notDecimal
        /// More than one digit, the first of them `0`.
        case leadingZero
        /// Larger than the allowed maximum.
        case tooLarge
    }

    /// Parses `bytes` as a decimal number no larger than `maximum`.
    ///
    /// Stops accumulating once the value passes `maximum`, so an arbitrarily
    /// long digit string cannot overflow.
    static func parse(_ bytes: some Collection<UInt8>, maximum: Int) -> Result<Int, Failure> {
        guard let first = bytes.first else { return .failure(.notDecimal) }
        var value = 0
        var tooLarge = false
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return .failure(.notDecimal) }
            if !tooLarge {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                tooLarge = value > maximum
            }
        }
        if first == UInt8(ascii: "0"), bytes.count > 1 { return .failure(.leadingZero) }
        return tooLarge ? .failure(.tooLarge) : .success(value)
    }
}
