extension IPAddress: CustomStringConvertible {
    /// The canonical text: a dotted quad for IPv4, RFC 5952 form for IPv6.
    ///
    /// RFC 5952 makes the text unique, so the API can compare, store and echo
    /// addresses as strings: lower-case hex without leading zeros, the
    /// longest run of two or more zero groups written `::` (the leftmost run
    /// on a tie; a single zero group stays `0`), and IPv4-mapped addresses
    /// (`::ffff:0:0/96`) written `::ffff:a.b.c.d`.
    public var description: String {
        switch family {
        case .v4:
            return Self.dottedQuad(UInt32(truncatingIfNeeded: low))
        case .v6:
            if high == 0, low >> 32 == 0xffff {
                return "::ffff:" + Self.dottedQuad(UInt32(truncatingIfNeeded: low))
            }
            return v6Text
        }
    }

    private static func dottedQuad(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    private var v6Text: String {
        let groups = (0..<8).map { index -> UInt16 in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (16 * (3 - index % 4)))
        }

        // The longest run of zero groups; ">" keeps the leftmost on a tie.
        var bestStart = -1
        var bestLength = 0
        var runStart = 0
        for index in 0...8 {
            if index < 8, groups[index] == 0 { continue }
            let runLength = index - runStart
            if runLength > bestLength {
                bestStart = runStart
                bestLength = runLength
            }
            runStart = index + 1
        }

        func hex(_ slice: ArraySlice<UInt16>) -> String {
            slice.map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestLength >= 2 else { return hex(groups[...]) }
        return hex(groups[..<bestStart]) + "::" + hex(groups[(bestStart + bestLength)...])
    }
}
