/// The ASCII bytes the address parsers look for.
///
/// The parsers work on UTF-8 bytes rather than `Character`s: grapheme
/// breaking is slow and, worse, would let a combining mark glue itself onto
/// a digit and change what counts as one.
enum ASCII {
    static let colon = UInt8(ascii: ":")
    static let dot = UInt8(ascii: ".")
    static let slash = UInt8(ascii: "/")
    static let hyphen = UInt8(ascii: "-")
    static let percent = UInt8(ascii: "%")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")

    /// Space, tab, line feed, vertical tab, form feed, carriage return.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }
}
