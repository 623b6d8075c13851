/// A protocol definition's GUID (RFC 4122 text), kept as 128 bits.
///
/// Parsing accepts any case and optional braces; `description` is the canonical lower-case form
/// without braces, which is what the server stores and returns.
public struct ProtocolGUID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The first 64 bits.
    public var high: UInt64
    /// The last 64 bits.
    public var low: UInt64

    /// Wraps 128 bits.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, optionally in braces, any case.
    public init?(_ text: some StringProtocol) {
        var bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "{") {
            guard bytes.last == UInt8(ascii: "}"), bytes.count == 38 else { return nil }
            bytes = Array(bytes[1..<37])
        }
        guard bytes.count == 36 else { return nil }
        var value: (UInt64, UInt64) = (0, 0)
        var nibbles = 0
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let nibble = Hex.value(of: byte) else { return nil }
            if nibbles < 16 {
                value.0 = value.0 << 4 | UInt64(nibble)
            } else {
                value.1 = value.1 << 4 | UInt64(nibble)
            }
            nibbles += 1
        }
        high = value.0
        low = value.1
    }

    /// A random version-4 GUID.
    public static func random() -> ProtocolGUID {
        var generator = SystemRandomNumberGenerator()
        let high = (generator.next() as UInt64) & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000
        let low = (generator.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        return ProtocolGUID(high: high, low: low)
    }

    /// Lower-case, no braces.
    public var description: String {
        let digits = Hex.lowerDigits
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for index in 0..<32 {
            if index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
            let word = index < 16 ? high : low
            let shift = UInt64(60 - (index % 16) * 4)
            out.append(digits[Int((word >> shift) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (lhs: ProtocolGUID, rhs: ProtocolGUID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}
