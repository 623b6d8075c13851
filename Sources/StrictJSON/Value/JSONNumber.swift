/// A number kept as its literal text so integers are exact.
///
/// JSON puts no limit on a number's size or precision, and converting every number to `Double` would silently round
/// integers above 2^53 (ids, counters, timestamps). Keeping the text defers the choice to the reader:
///
/// - `int64` is the exact value of a plain integer literal (`-?(0|[1-9][0-9]*)`) that fits in `Int64`, else nil.
///   Fraction and exponent forms are never integers here, even when integral (`1.0`, `1e3`): a strict API should not
///   guess that a client meant an integer.
/// - `double` is the nearest `Double`. Out-of-range literals such as `1e999999` give ±infinity and tiny ones give ±0;
///   a 400-digit integer parses fine as a number, with `int64` nil and `double` rounded.
///
/// Equality compares literals, so `1`, `1.0` and `1e0` are different numbers; compare `int64` or `double` for
/// numeric equality.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    /// The number's text, e.g. `"42"`, `"-0.5"`, `"1e999999"`.
    ///
    /// The parser only produces RFC 8259 literals. A literal set by hand is not checked here; `JSONWriter` writes
    /// `null` for one that is not a valid JSON number, so output stays valid JSON.
    public var literal: String

    /// Creates a number from its literal text, trusted as is (see `literal`).
    public init(literal: String) {
        self.literal = literal
    }

    /// Creates an integer number.
    public init(_ value: Int64) {
        self.literal = String(value)
    }

    /// Creates an integer number.
    public init(_ value: Int) {
        self.literal = String(value)
    }

    /// Creates a number from a double, with its shortest round-trip literal (`0.1`, `3.0`, `1e-05`).
    ///
    /// NaN and the infinities have no JSON literal; they are kept as Swift spells them (`nan`, `inf`, `-inf`) so
    /// `double` still returns them, and `JSONWriter` writes them as `null`.
    public init(_ value: Double) {
        self.literal = value.description
    }

    /// The exact value if `literal` is a plain integer in `Int64` range, else nil (see the type's documentation).
    public var int64: Int64? {
        var utf8 = literal.utf8.makeIterator()
        guard var byte = utf8.next() else { return nil }
        let negative = byte == ASCII.minus
        if negative {
            guard let next = utf8.next() else { return nil }
            byte = next
        }
        guard ASCII.isDigit(byte) else { return nil }
        if byte == ASCII.zero {
            // JSON forbids leading zeros, so "0" and "-0" are the only integers starting with one.
            return utf8.next() == nil ? 0 : nil
        }
        // Accumulate as a negative number: Int64's negative range is one larger, so Int64.min parses exactly.
        var value = -Int64(byte &- ASCII.zero)
        while let next = utf8.next() {
            guard ASCII.isDigit(next) else { return nil }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = shifted.subtractingReportingOverflow(Int64(next &- ASCII.zero))
            if overflowA || overflowB { return nil }
            value = sum
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    /// The nearest `Double`: ±infinity when out of range, NaN only for a hand-set literal that is not a number.
    public var double: Double {
        Double(literal) ?? .nan
    }

    /// The literal text.
    public var description: String {
        literal
    }
}
