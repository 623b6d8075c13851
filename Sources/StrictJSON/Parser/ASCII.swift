/// The bytes JSON's grammar is made of, named so the parser and writer read like the RFC rather than like hex.
enum ASCII {
    /// Tab.
    static let tab: UInt8 = 0x09
    /// Line feed, `\n`.
    static let lineFeed: UInt8 = 0x0A
    /// Carriage return, `\r`.
    static let carriageReturn: UInt8 = 0x0D
    /// Space.
    static let space: UInt8 = 0x20
    /// `"`.
    static let quote: UInt8 = 0x22
    /// `+`.
    static let plus: UInt8 = 0x2B
    /// `,`.
    static let comma: UInt8 = 0x2C
    /// `-`.
    static let minus: UInt8 = 0x2D
    /// `.`.
    static let period: UInt8 = 0x2E
    /// `/`.
    static let slash: UInt8 = 0x2F
    /// `0`.
    static let zero: UInt8 = 0x30
    /// `9`.
    static let nine: UInt8 = 0x39
    /// `:`.
    static let colon: UInt8 = 0x3A
    /// `E`.
    static let upperE: UInt8 = 0x45
    /// `[`.
    static let openBracket: UInt8 = 0x5B
    /// `\`.
    static let backslash: UInt8 = 0x5C
    /// `]`.
    static let closeBracket: UInt8 = 0x5D
    /// `a`.
    static let lowerA: UInt8 = 0x61
    /// `b`.
    static let lowerB: UInt8 = 0x62
    /// `e`.
    static let lowerE: UInt8 = 0x65
    /// `f`.
    static let lowerF: UInt8 = 0x66
    /// `n`.
    static let lowerN: UInt8 = 0x6E
    /// `r`.
    static let lowerR: UInt8 = 0x72
    /// `t`.
    static let lowerT: UInt8 = 0x74
    /// `u`.
    static let lowerU: UInt8 = 0x75
    /// `{`.
    static let openBrace: UInt8 = 0x7B
    /// `}`.
    static let closeBrace: UInt8 = 0x7D

    /// Whether `byte` is `0`...`9`.
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- zero < 10
    }

    /// Whether `byte` is one of the four whitespace bytes RFC 8259 allows between tokens.
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == lineFeed || byte == carriageReturn || byte == tab
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        if isDigit(byte) { return byte &- zero }
        let lowered = byte | 0x20  // ASCII letters differ from their lowercase only in bit 5
        if lowered >= lowerA && lowered <= lowerF { return lowered &- lowerA &+ 10 }
        return nil
    }

    /// The lowercase hexadecimal digit for a value 0...15.
    @inline(__always)
    static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? zero &+ value : lowerA &+ (value &- 10)
    }

    /// How a byte is named in an error message: `character 'x'` when printable, `byte 0xC3` otherwise, so that
    /// control bytes and broken UTF-8 never end up raw in a response.
    static func describe(_ byte: UInt8) -> String {
        if byte > space && byte < 0x7F {
            return "character '\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte 0x" + hexByte(byte)
    }

    /// Two uppercase hex digits.
    static func hexByte(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}
