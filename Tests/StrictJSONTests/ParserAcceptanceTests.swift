import Testing
import StrictJSON

/// A document that must parse, and the value it must give.
struct Acceptance: Sendable, CustomTestStringConvertible {
    let input: [UInt8]
    let expected: JSONValue

    init(_ text: String, _ expected: JSONValue) {
        input = utf8(text)
        self.expected = expected
    }

    init(bytes: [UInt8], _ expected: JSONValue) {
        input = bytes
        self.expected = expected
    }

    var testDescription: String { String(decoding: input, as: UTF8.self).debugDescription }
}

@Suite("Parser accepts valid JSON")
struct ParserAcceptanceTests {
    static let cases: [Acceptance] = [
        // Scalars and whitespace.
        Acceptance("null", .null),
        Acceptance("true", .bool(true)),
        Acceptance("false", .bool(false)),
        Acceptance(" \t\r\n1 \t\r\n", .number(JSONNumber(literal: "1"))),
        // Numbers keep their literal text, whatever the form.
        Acceptance("0", .number(JSONNumber(literal: "0"))),
        Acceptance("-0", .number(JSONNumber(literal: "-0"))),
        Acceptance("123", .number(JSONNumber(literal: "123"))),
        Acceptance("-1.5e10", .number(JSONNumber(literal: "-1.5e10"))),
        Acceptance("1E+2", .number(JSONNumber(literal: "1E+2"))),
        Acceptance("1e-2", .number(JSONNumber(literal: "1e-2"))),
        Acceptance("0.0", .number(JSONNumber(literal: "0.0"))),
        Acceptance("0e0", .number(JSONNumber(literal: "0e0"))),
        Acceptance("1e007", .number(JSONNumber(literal: "1e007"))),
        Acceptance("1e999999", .number(JSONNumber(literal: "1e999999"))),
        Acceptance(String(repeating: "9", count: 400), .number(JSONNumber(literal: String(repeating: "9", count: 400)))),
        Acceptance("[-0.0]", [.number(JSONNumber(literal: "-0.0"))]),
        // Strings: plain, every escape, \u forms, surrogate pairs, raw UTF-8, DEL and NUL.
        Acceptance(#""""#, ""),
        Acceptance(#""abc""#, "abc"),
        Acceptance(#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{08}\u{0C}\n\r\t"),
        Acceptance(#""\u0041\u00e9\u20AC""#, "Aé€"),
        Acceptance(#""\uD83D\uDE00""#, "😀"),
        Acceptance(#""\ud83d\ude00""#, "😀"),
        Acceptance(#""\uDBFF\uDFFF""#, "\u{10FFFF}"),
        Acceptance(#""\uFFFF""#, "\u{FFFF}"),
        Acceptance(#""\u0000""#, "\u{0}"),
        Acceptance(#""a\u0000b""#, "a\u{0}b"),
        Acceptance(#""é€😀""#, "é€😀"),
        Acceptance("\"\u{7F}\"", "\u{7F}"),
        Acceptance("\"\u{2028}\u{2029}\"", "\u{2028}\u{2029}"),
        Acceptance(#""plain then \n escaped é then plain""#, "plain then \n escaped é then plain"),
        Acceptance(#""\\\\""#, "\\\\"),
        Acceptance(bytes: [0x22, 0xF4, 0x8F, 0xBF, 0xBF, 0x22], "\u{10FFFF}"),
        Acceptance(bytes: [0x22, 0xED, 0x9F, 0xBF, 0x22], "\u{D7FF}"),
        Acceptance(bytes: [0x22, 0xEE, 0x80, 0x80, 0x22], "\u{E000}"),
        // Containers, with and without whitespace, order preserved.
        Acceptance("[]", []),
        Acceptance("{}", .object(JSONObject())),
        Acceptance("[ ]", []),
        Acceptance("{ \n }", .object(JSONObject())),
        Acceptance("[[]]", [[]]),
        Acceptance("[{}]", [.object(JSONObject())]),
        Acceptance("[1,2,3]", [1, 2, 3]),
        Acceptance("[ 1 , 2 ]", [1, 2]),
        Acceptance(#"{ "a" : 1 }"#, ["a": 1]),
        Acceptance(#"{"b":1,"a":2}"#, ["b": 1, "a": 2]),
        Acceptance(#"{"":1}"#, ["": 1]),
        Acceptance(#"{"a":{"a":1},"b":{"a":2}}"#, ["a": ["a": 1], "b": ["a": 2]]),
        Acceptance(#"{"a":1,"b":[true,false,null],"c":"d"}"#, ["a": 1, "b": [true, false, .null], "c": "d"]),
        Acceptance(#"{"\u0061":1,"b":2}"#, ["a": 1, "b": 2]),
    ]

    @Test("accepts", arguments: cases)
    func accepts(_ testCase: Acceptance) throws {
        let value = try JSONParser.parse(testCase.input)
        #expect(value == testCase.expected)
    }

    @Test("every entry point gives the same value", arguments: cases)
    func entryPointsAgree(_ testCase: Acceptance) throws {
        let fromArray = try JSONParser.parse(testCase.input)
        let fromSlice = try JSONParser.parse(([0x20] + testCase.input + [0x20])[1...testCase.input.count])
        let fromRaw = try testCase.input.withUnsafeBytes { buffer in try JSONParser.parse(buffer) }
        #expect(fromSlice == fromArray)
        #expect(fromRaw == fromArray)
        if let text = String(validating: testCase.input, as: UTF8.self) {
            #expect(try JSONParser.parse(text) == fromArray)
        }
    }

    @Test("object members keep document order and answer lookups")
    func objectOrderAndLookup() throws {
        let value = try JSONParser.parse(#"{"z":1,"a":null,"m":"x"}"#)
        guard case .object(let object) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(object.keys == ["z", "a", "m"])
        #expect(object.count == 3)
        #expect(object["a"] == .null)
        #expect(object["m"] == "x")
        #expect(object["missing"] == nil)
        #expect(object.map(\.key) == ["z", "a", "m"])
    }

    @Test("a large object with unique keys is accepted and kept in order")
    func largeObject() throws {
        let keys = (0..<2_000).map { "key\($0)" }
        let text = "{" + keys.enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",") + "}"
        guard case .object(let object) = try JSONParser.parse(text) else {
            Issue.record("not an object")
            return
        }
        #expect(object.keys == keys)
        #expect(object["key1999"] == 1999)
    }

    @Test("typeName names each JSON type")
    func typeNames() {
        let names = ([.null, true, 1, "s", [], [:]] as [JSONValue]).map(\.typeName)
        #expect(names == ["null", "boolean", "number", "string", "array", "object"])
    }
}
