/// Strict UTF-8 validation that says where input goes wrong, for error offsets.
///
/// It follows the well-formed byte sequences of Unicode table 3-7, which rule out overlong forms, UTF-8-encoded
/// surrogates (U+D800...U+DFFF), values above U+10FFFF and truncated sequences. The tests check it agrees with the
/// standard library's `String(validating:as:)` on random input.
enum UTF8Validation {
    /// The offset of the first byte of the first ill-formed sequence in `range`, or nil if all of it is valid.
    static func firstInvalidOffset(in input: UnsafeBufferPointer<UInt8>, range: Range<Int>) -> Int? {
        var index = range.lowerBound
        let end = range.upperBound
        while index < end {
            let lead = input[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            // The allowed range of the second byte depends on the lead; the rest are always 0x80...0xBF.
            let length: Int
            var secondLow: UInt8 = 0x80
            var secondHigh: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondLow = 0xA0  // below is overlong
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondHigh = 0x9F  // above encodes a surrogate
            case 0xF0: length = 4; secondLow = 0x90  // below is overlong
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondHigh = 0x8F  // above is beyond U+10FFFF
            default: return index  // a stray continuation byte, an overlong 0xC0/0xC1 lead, or 0xF5...0xFF
            }
            guard index + length <= end else { return index }
            let second = input[index + 1]
            guard second >= secondLow && second <= secondHigh else { return index }
            for offset in 2..<length where input[index + offset] & 0xC0 != 0x80 {
                return index
            }
            index += length
        }
        return nil
    }
}
