import Testing
import StrictJSON

@Suite("JSONNumber")
struct JSONNumberTests {
    /// Literal and the `int64` it must give: only plain integers in range have one.
    static let integers: [(String, Int64?)] = [
        ("0", 0), ("-0", 0), ("7", 7), ("-7", -7), ("65535", 65535),
        ("9223372036854775807", .max), ("-9223372036854775808", .min),
        ("9223372036854775808", nil), ("-9223372036854775809", nil), ("99999999999999999999", nil),
        (String(repeating: "9", count: 400), nil),
        ("1.0", nil), ("1e3", nil), ("1E0", nil), ("-0.0", nil), ("0.5", nil),
        // Hand-set literals that are not JSON integers never get one either.
        ("", nil), ("-", nil), ("01", nil), ("+1", nil), (" 1", nil), ("1 ", nil), ("0x1F", nil), ("abc", nil),
    ]

    @Test("int64 is exact for plain integers in range", arguments: integers)
    func int64(literal: String, expected: Int64?) {
        #expect(JSONNumber(literal: literal).int64 == expected)
    }

    /// Literal and the `double` it must give, including out-of-range ones.
    static let doubles: [(String, Double)] = [
        ("0", 0), ("-0", -0.0), ("0.1", 0.1), ("-2.5e-3", -0.0025), ("1E2", 100), ("1e007", 1e7),
        ("9007199254740993", 9007199254740992), ("1.7976931348623157e308", .greatestFiniteMagnitude),
        ("5e-324", .leastNonzeroMagnitude),
        ("1e999999", .infinity), ("-1e999999", -.infinity), ("1e-999999", 0),
        (String(repeating: "9", count: 400), .infinity),
        ("0." + String(repeating: "0", count: 400) + "1", 0),
    ]

    @Test("double is the nearest Double, infinite when out of range", arguments: doubles)
    func double(literal: String, expected: Double) {
        let value = JSONNumber(literal: literal).double
        #expect(value == expected)
        #expect(value.sign == expected.sign)
    }

    @Test("huge numbers parse as numbers with no int64")
    func hugeNumbersParse() throws {
        for literal in ["1e999999", String(repeating: "1", count: 400), "-" + String(repeating: "9", count: 400) + ".5"] {
            let value = try JSONParser.parse(literal)
            #expect(value == .number(JSONNumber(literal: literal)))
            if case .number(let number) = value {
                #expect(number.int64 == nil)
                #expect(!number.double.isFinite)
            }
        }
    }

    @Test("initialisers produce literals")
    func initialisers() {
        #expect(JSONNumber(Int64.min).literal == "-9223372036854775808")
        #expect(JSONNumber(42).literal == "42")
        #expect(JSONNumber(0.1).literal == "0.1")
        #expect(JSONNumber(3.0).literal == "3.0")
        #expect(JSONNumber(3.0).int64 == nil)
        #expect(JSONNumber(3.0).double == 3)
        #expect(JSONNumber(Double.infinity).double == .infinity)
        #expect(JSONNumber(Double.nan).double.isNaN)
        #expect(JSONNumber(literal: "12").description == "12")
    }

    @Test("equality is by literal")
    func equalityByLiteral() {
        #expect(JSONNumber(literal: "1") == JSONNumber(1))
        #expect(JSONNumber(literal: "1") != JSONNumber(literal: "1.0"))
        #expect(JSONNumber(literal: "1").double == JSONNumber(literal: "1.0").double)
    }

    @Test("int64 round-trips every Int64 it is given")
    func int64RoundTrip() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let value = Int64(bitPattern: rng.next()) >> (rng.next() % 64)
            #expect(JSONNumber(value).int64 == value)
        }
    }
}
