extension ByteParser {
    /// Reads a string starting at the opening quote at `index`.
    ///
    /// The common case, no escapes, only looks for the closing quote, a backslash or a control byte, then builds the
    /// `String` straight from the input bytes. UTF-8 is validated here only when a non-ASCII byte was seen, which in
    /// an API's keys and values is the exception. (The standard library's `String(validating:as:)` would do the
    /// same job but is generic and, unspecialised, spends more time looking up type metadata than validating.)
    mutating func readString() throws(JSONSyntaxError) -> String {
        index += 1
        let start = index
        let end = input.count
        var orOfBytes: UInt8 = 0
        while index < end {
            let byte = input[index]
            if byte == ASCII.quote {
                let raw = UnsafeBufferPointer(rebasing: input[start..<index])
                if orOfBytes >= 0x80 {
                    try validateUTF8(start..<index)
                }
                index += 1
                return String(decoding: raw, as: UTF8.self)
            }
            if byte == ASCII.backslash {
                return try readEscapedString(from: start)
            }
            if byte < ASCII.space {
                throw controlCharacter(byte)
            }
            orOfBytes |= byte
            index += 1
        }
        throw unexpectedEnd()
    }

    /// Finishes a string whose bytes from `start` to `index` are plain and whose `index` is a backslash.
    private mutating func readEscapedString(from start: Int) throws(JSONSyntaxError) -> String {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(index - start + 16)
        decoded.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<index]))
        let end = input.count
        while index < end {
            let byte = input[index]
            if byte == ASCII.quote {
                // Escapes are ASCII in the input and only add complete, valid sequences to the output, so the raw
                // bytes between the quotes are valid UTF-8 exactly when the decoded ones are, and they locate errors.
                try validateUTF8(start..<index)
                index += 1
                return String(decoding: decoded, as: UTF8.self)
            }
            if byte == ASCII.backslash {
                try readEscape(into: &decoded)
            } else if byte < ASCII.space {
                throw controlCharacter(byte)
            } else {
                let runStart = index
                index += 1
                while index < end {
                    let next = input[index]
                    if next == ASCII.quote || next == ASCII.backslash || next < ASCII.space { break }
                    index += 1
                }
                decoded.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<index]))
            }
        }
        throw unexpectedEnd()
    }

    /// Decodes the escape sequence at `index` (a backslash) and appends its UTF-8.
    private mutating func readEscape(into decoded: inout [UInt8]) throws(JSONSyntaxError) {
        let escapeStart = index
        guard index + 1 < input.count else { throw unexpectedEnd() }
        let letter = input[index + 1]
        index += 2
        switch letter {
        case ASCII.quote, ASCII.backslash, ASCII.slash: decoded.append(letter)
        case ASCII.lowerB: decoded.append(0x08)
        case ASCII.lowerF: decoded.append(0x0C)
        case ASCII.lowerN: decoded.append(ASCII.lineFeed)
        case ASCII.lowerR: decoded.append(ASCII.carriageReturn)
        case ASCII.lowerT: decoded.append(ASCII.tab)
        case ASCII.lowerU:
            let unit = try readHex4()
            let scalarValue: UInt32
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate only means something as the first half of a `\uD83D\uDE00` pair.
                guard index + 1 < input.count, input[index] == ASCII.backslash, input[index + 1] == ASCII.lowerU else {
                    throw loneSurrogate(unit, at: escapeStart)
                }
                index += 2
                let low = try readHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw loneSurrogate(unit, at: escapeStart) }
                scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            case 0xDC00...0xDFFF:
                throw loneSurrogate(unit, at: escapeStart)
            default:
                scalarValue = UInt32(unit)
            }
            Self.appendUTF8(scalarValue, to: &decoded)
        default:
            throw JSONSyntaxError(offset: escapeStart, reason: "invalid escape \(Self.describeEscape(letter))")
        }
    }

    /// Appends the UTF-8 encoding of a scalar value (never a surrogate: those are paired or rejected first).
    private static func appendUTF8(_ value: UInt32, to bytes: inout [UInt8]) {
        switch value {
        case 0..<0x80:
            bytes.append(UInt8(value))
        case 0x80..<0x800:
            bytes.append(0xC0 | UInt8(value >> 6))
            bytes.append(0x80 | UInt8(value & 0x3F))
        case 0x800..<0x10000:
            bytes.append(0xE0 | UInt8(value >> 12))
            bytes.append(0x80 | UInt8(value >> 6 & 0x3F))
            bytes.append(0x80 | UInt8(value & 0x3F))
        default:
            bytes.append(0xF0 | UInt8(value >> 18))
            bytes.append(0x80 | UInt8(value >> 12 & 0x3F))
            bytes.append(0x80 | UInt8(value >> 6 & 0x3F))
            bytes.append(0x80 | UInt8(value & 0x3F))
        }
    }

    /// Reads the four hex digits of a `\u` escape at `index`.
    private mutating func readHex4() throws(JSONSyntaxError) -> UInt16 {
        var unit: UInt16 = 0
        for _ in 0..<4 {
            guard index < input.count else { throw unexpectedEnd() }
            guard let digit = ASCII.hexValue(input[index]) else {
                throw JSONSyntaxError(
                    offset: index, reason: "unexpected \(ASCII.describe(input[index])) in \\u escape (expected a hex digit)")
            }
            unit = unit << 4 | UInt16(digit)
            index += 1
        }
        return unit
    }

    /// The error for a raw control byte, which JSON requires to be escaped inside strings.
    private func controlCharacter(_ byte: UInt8) -> JSONSyntaxError {
        JSONSyntaxError(offset: index, reason: "unescaped control character 0x\(ASCII.hexByte(byte)) in string")
    }

    /// The error for a surrogate that is not half of a pair, which has no UTF-8 encoding.
    private func loneSurrogate(_ unit: UInt16, at offset: Int) -> JSONSyntaxError {
        let hex = String(unit, radix: 16, uppercase: true)
        return JSONSyntaxError(offset: offset, reason: "lone surrogate \\u\(hex)")
    }

    /// `'\x'` for a printable escape letter, else the byte's description.
    private static func describeEscape(_ letter: UInt8) -> String {
        letter > ASCII.space && letter < 0x7F ? "'\\\(Character(Unicode.Scalar(letter)))'" : "\\ followed by \(ASCII.describe(letter))"
    }

    /// Throws "invalid UTF-8" at the first ill-formed sequence in `range`, if there is one.
    private func validateUTF8(_ range: Range<Int>) throws(JSONSyntaxError) {
        if let offset = UTF8Validation.firstInvalidOffset(in: input, range: range) {
            throw JSONSyntaxError(offset: offset, reason: "invalid UTF-8")
        }
    }
}
