/// RFC 8259's number grammar, `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, in one place so the parser
/// and the writer's check of hand-set literals agree on what a number is.
enum NumberGrammar {
    /// The outcome of scanning a number.
    enum Scan {
        /// A number spans up to (not including) `end`.
        case number(end: Int)
        /// No number here; `offset` and `reason` say why, for a `JSONSyntaxError`.
        case invalid(offset: Int, reason: String)
    }

    /// Scans the longest number starting at `start`, which the caller has seen is `-` or a digit.
    ///
    /// Only the number's own bytes are checked: what follows it (`1x`) is for the caller to judge, since a number
    /// may legitimately be followed by `,`, `]`, `}` or whitespace.
    static func scan(_ input: UnsafeBufferPointer<UInt8>, from start: Int) -> Scan {
        let end = input.count
        var index = start
        if index < end && input[index] == ASCII.minus {
            index += 1
        }
        guard index < end else { return .invalid(offset: end, reason: "unexpected end of input") }
        let first = input[index]
        guard ASCII.isDigit(first) else {
            return .invalid(offset: index, reason: "unexpected \(ASCII.describe(first)) (expected a digit)")
        }
        index += 1
        if first == ASCII.zero {
            // "01" would be read as octal by some parsers and as 1 by others; RFC 8259 forbids it.
            if index < end && ASCII.isDigit(input[index]) {
                return .invalid(offset: index - 1, reason: "leading zero in number")
            }
        } else {
            while index < end && ASCII.isDigit(input[index]) { index += 1 }
        }
        if index < end && input[index] == ASCII.period {
            index += 1
            guard index < end else { return .invalid(offset: end, reason: "unexpected end of input") }
            guard ASCII.isDigit(input[index]) else {
                return .invalid(offset: index, reason: "expected a digit after '.'")
            }
            while index < end && ASCII.isDigit(input[index]) { index += 1 }
        }
        if index < end && (input[index] == ASCII.lowerE || input[index] == ASCII.upperE) {
            index += 1
            if index < end && (input[index] == ASCII.plus || input[index] == ASCII.minus) {
                index += 1
            }
            guard index < end else { return .invalid(offset: end, reason: "unexpected end of input") }
            guard ASCII.isDigit(input[index]) else {
                return .invalid(offset: index, reason: "expected a digit in the exponent")
            }
            while index < end && ASCII.isDigit(input[index]) { index += 1 }
        }
        return .number(end: index)
    }

    /// Whether `literal` is exactly one JSON number.
    static func isValid(_ literal: String) -> Bool {
        var literal = literal
        return literal.withUTF8 { bytes in
            guard let first = bytes.first, first == ASCII.minus || ASCII.isDigit(first) else { return false }
            if case .number(let end) = scan(bytes, from: 0) { return end == bytes.count }
            return false
        }
    }
}
