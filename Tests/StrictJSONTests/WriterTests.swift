import Testing
import StrictJSON

@Suite("JSONWriter")
struct WriterTests {
    /// Swift string and the exact JSON the writer must produce for it.
    static let strings: [(String, String)] = [
        ("", #""""#),
        ("plain", #""plain""#),
        ("say \"hi\"", #""say \"hi\"""#),
        ("back\\slash", #""back\\slash""#),
        ("a/b", #""a/b""#),
        ("\n\r\t\u{08}\u{0C}", #""\n\r\t\b\f""#),
        ("\u{00}\u{01}\u{1F}", #""\u0000\u0001\u001f""#),
        ("\u{7F}", "\"\u{7F}\""),
        ("é€😀\u{2028}", "\"é€😀\u{2028}\""),
        ("\"\"\"", #""\"\"\"""#),
        ("end\\", #""end\\""#),
    ]

    @Test("strings are escaped minimally", arguments: strings)
    func stringEscaping(input: String, expected: String) {
        var writer = JSONWriter()
        writer.string(input)
        #expect(writer.text == expected)
    }

    @Test("every control character is escaped and parses back")
    func allControlCharacters() throws {
        let all = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        var writer = JSONWriter()
        writer.string(all)
        #expect(!writer.bytes.dropFirst().dropLast().contains { $0 < 0x20 })
        #expect(try JSONParser.parse(writer.bytes) == .string(all))
    }

    @Test("substrings are written without copying quirks")
    func substring() {
        var writer = JSONWriter()
        let text = "xx\"inner\"yy"
        writer.string(text.dropFirst(2).dropLast(2))
        #expect(writer.text == #""\"inner\"""#)
    }

    static let integers: [(Int, String)] = [
        (0, "0"), (7, "7"), (-7, "-7"), (10, "10"), (1_000_000, "1000000"),
        (.max, "9223372036854775807"), (.min, "-9223372036854775808"),
    ]

    @Test("integers", arguments: integers)
    func integerOutput(value: Int, expected: String) {
        var writer = JSONWriter()
        writer.int(value)
        #expect(writer.text == expected)
        var wide = JSONWriter()
        wide.int64(Int64(value))
        #expect(wide.text == expected)
    }

    @Test("unsigned integers")
    func unsignedOutput() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.uint64(0)
        writer.uint64(.max)
        writer.endArray()
        #expect(writer.text == "[0,18446744073709551615]")
    }

    static let doubles: [(Double, String)] = [
        (0, "0"), (-0.0, "-0"), (1, "1"), (-3, "-3"), (3.0, "3"), (0.1, "0.1"), (-2.5, "-2.5"), (1e-5, "1e-05"),
        (9007199254740991, "9007199254740991"), (9007199254740992, "9007199254740992.0"),
        (1e16, "1e+16"), (-1.5e17, "-1.5e+17"),
        (1e300, "1e+300"), (.greatestFiniteMagnitude, "1.7976931348623157e+308"), (.leastNonzeroMagnitude, "5e-324"),
        (.nan, "null"), (.infinity, "null"), (-.infinity, "null"), (.signalingNaN, "null"),
    ]

    @Test("doubles: shortest round-trip form, integral without .0, non-finite as null", arguments: doubles)
    func doubleOutput(value: Double, expected: String) {
        var writer = JSONWriter()
        writer.double(value)
        #expect(writer.text == expected)
    }

    @Test("any finite double is written as valid JSON that reads back exactly")
    func doubleRoundTrip() throws {
        var generator = RandomJSON(rng: SplitMix64(seed: 42))
        for _ in 0..<5_000 {
            let value = generator.finiteDouble()
            var writer = JSONWriter()
            writer.double(value)
            let parsed = try JSONParser.parse(writer.bytes)
            guard case .number(let number) = parsed else {
                Issue.record("\(value) written as \(writer.text)")
                continue
            }
            #expect(number.double.bitPattern == value.bitPattern, "\(value) written as \(writer.text)")
        }
    }

    @Test("commas and colons in nested containers, keys in the order written")
    func structure() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("z")
        writer.int(1)
        writer.key("a")
        writer.beginArray()
        writer.bool(true)
        writer.null()
        writer.beginObject()
        writer.endObject()
        writer.beginArray()
        writer.endArray()
        writer.string("s")
        writer.endArray()
        writer.key("m")
        writer.beginObject()
        writer.key("x")
        writer.bool(false)
        writer.endObject()
        writer.endObject()
        #expect(writer.text == #"{"z":1,"a":[true,null,{},[],"s"],"m":{"x":false}}"#)
    }

    @Test("field conveniences write null for nil")
    func fields() {
        var writer = JSONWriter()
        writer.object { json in
            json.field("s", "x" as String?)
            json.field("noS", nil as String?)
            json.field("i", 5 as Int?)
            json.field("i64", Int64(-5))
            json.field("u64", UInt64(5))
            json.field("d", 0.5)
            json.field("noD", nil as Double?)
            json.field("b", true)
            json.field("v", ["k": [1, "two"]] as JSONValue)
            json.field("list", strings: ["a", "b"])
            json.field("noList", strings: nil)
            json.key("arr")
            json.array { json in
                json.int(1)
                json.int(2)
            }
        }
        #expect(writer.text == #"{"s":"x","noS":null,"i":5,"i64":-5,"u64":5,"d":0.5,"noD":null,"b":true,"#
            + #""v":{"k":[1,"two"]},"list":["a","b"],"noList":null,"arr":[1,2]}"#)
    }

    @Test("numbers are written by literal; a literal that is not JSON becomes null")
    func numberLiterals() {
        var writer = JSONWriter()
        writer.value([
            .number(JSONNumber(literal: "1.50e+3")), .number(JSONNumber(literal: "1e999999")),
            .number(JSONNumber(Double.nan)), .number(JSONNumber(-Double.infinity)),
            .number(JSONNumber(literal: "01")), .number(JSONNumber(literal: "")), .number(JSONNumber(literal: "1 ")),
            .number(JSONNumber(literal: "0x10")),
        ])
        #expect(writer.text == "[1.50e+3,1e999999,null,null,null,null,null,null]")
    }

    @Test("raw fragments are embedded as values")
    func rawFragments() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("cached")
        writer.rawJSON(utf8(#"{"a":[1,2]}"#))
        writer.key("n")
        writer.rawJSON(utf8("3"))
        writer.endObject()
        #expect(writer.text == #"{"cached":{"a":[1,2]},"n":3}"#)
    }

    @Test("value() writes object members in their order")
    func valueOrder() {
        let value: JSONValue = ["b": 1, "a": ["y": .null, "x": 2.5], "c": [true, "é\n"]]
        #expect(String(decoding: written(value), as: UTF8.self) == #"{"b":1,"a":{"y":null,"x":2.5},"c":[true,"é\n"]}"#)
        #expect(value.description == #"{"b":1,"a":{"y":null,"x":2.5},"c":[true,"é\n"]}"#)
    }

    @Test("reset starts a new document and keeps capacity")
    func reset() {
        var writer = JSONWriter(reservingCapacity: 1024)
        writer.beginArray()
        writer.int(1)
        writer.endArray()
        writer.reset()
        #expect(writer.bytes.isEmpty)
        #expect(writer.bytes.capacity >= 1024)
        writer.beginArray()
        writer.int(2)
        writer.endArray()
        #expect(writer.text == "[2]")
    }
}
