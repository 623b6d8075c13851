import Testing
import StrictJSON

/// A document that must be rejected, with the exact reason and offset the client should see.
struct Rejection: Sendable, CustomTestStringConvertible {
    let input: [UInt8]
    let reason: String
    let offset: Int

    init(_ text: String, _ reason: String, at offset: Int) {
        input = utf8(text)
        self.reason = reason
        self.offset = offset
    }

    init(bytes: [UInt8], _ reason: String, at offset: Int) {
        input = bytes
        self.reason = reason
        self.offset = offset
    }

    var testDescription: String {
        let text = String(decoding: input.prefix(40), as: UTF8.self).debugDescription
        return "\(text) -> \(reason) @\(offset)"
    }
}

@Suite("Parser rejects invalid JSON with a precise error")
struct ParserRejectionTests {
    static let structure: [Rejection] = [
        Rejection("", "empty body", at: 0),
        Rejection(" \t\r\n", "empty body", at: 4),
        Rejection("/* c */ 1", "unexpected character '/'", at: 0),
        Rejection("// c\n1", "unexpected character '/'", at: 0),
        Rejection("[1] // c", "trailing data after the value", at: 4),
        Rejection("# c\n1", "unexpected character '#'", at: 0),
        Rejection("[1,]", "trailing comma", at: 2),
        Rejection("[1, ]", "trailing comma", at: 2),
        Rejection(#"{"a":1,}"#, "trailing comma", at: 6),
        Rejection("[,1]", "unexpected character ','", at: 1),
        Rejection("[1,,2]", "unexpected character ','", at: 3),
        Rejection("{,}", "unexpected character ',' (expected a string key)", at: 1),
        Rejection("1 2", "trailing data after the value", at: 2),
        Rejection("{} x", "trailing data after the value", at: 3),
        Rejection("[]]", "trailing data after the value", at: 2),
        Rejection("{}{}", "trailing data after the value", at: 2),
        Rejection("truex", "trailing data after the value", at: 4),
        Rejection("0x10", "trailing data after the value", at: 1),
        Rejection("'a'", "unexpected character '''", at: 0),
        Rejection("{a:1}", "unexpected character 'a' (expected a string key)", at: 1),
        Rejection("{1:2}", "unexpected character '1' (expected a string key)", at: 1),
        Rejection(#"{"a" 1}"#, "unexpected character '1' (expected ':')", at: 5),
        Rejection(#"{"a"=1}"#, "unexpected character '=' (expected ':')", at: 4),
        Rejection(#"{"a":1 "b":2}"#, "unexpected character '\"' (expected ',' or '}')", at: 7),
        Rejection(#"{"a":1]"#, "unexpected character ']' (expected ',' or '}')", at: 6),
        Rejection("[1 2]", "unexpected character '2' (expected ',' or ']')", at: 3),
        Rejection("[1}", "unexpected character '}' (expected ',' or ']')", at: 2),
        Rejection("]", "unexpected character ']'", at: 0),
        Rejection("[", "unexpected end of input", at: 1),
        Rejection("{", "unexpected end of input", at: 1),
        Rejection(#"{"a""#, "unexpected end of input", at: 4),
        Rejection(#"{"a":"#, "unexpected end of input", at: 5),
        Rejection(#"{"a":1"#, "unexpected end of input", at: 6),
        Rejection("[1", "unexpected end of input", at: 2),
        Rejection("[1,", "unexpected end of input", at: 3),
        // Literals are exact and lowercase.
        Rejection("tru", "unexpected end of input", at: 3),
        Rejection("nul", "unexpected end of input", at: 3),
        Rejection("nulL", "unexpected character 'L'", at: 3),
        Rejection("True", "unexpected character 'T'", at: 0),
        Rejection("NULL", "unexpected character 'N'", at: 0),
        Rejection("undefined", "unexpected character 'u'", at: 0),
        // Only space, tab, CR and LF are whitespace; a byte-order mark is not allowed either.
        Rejection("\u{FEFF}1", "unexpected byte 0xEF", at: 0),
        Rejection("\u{A0}1", "unexpected byte 0xC2", at: 0),
        Rejection("[1,\u{0B}2]", "unexpected byte 0x0B", at: 3),
        Rejection("1\u{0C}", "trailing data after the value", at: 1),
        Rejection("[é]", "unexpected byte 0xC3", at: 1),
        Rejection(bytes: [0x5B, 0x00, 0x5D], "unexpected byte 0x00", at: 1),
    ]

    static let numbers: [Rejection] = [
        Rejection("NaN", "unexpected character 'N'", at: 0),
        Rejection("[NaN]", "unexpected character 'N'", at: 1),
        Rejection("Infinity", "unexpected character 'I'", at: 0),
        Rejection("-Infinity", "unexpected character 'I' (expected a digit)", at: 1),
        Rejection("01", "leading zero in number", at: 0),
        Rejection("-01", "leading zero in number", at: 1),
        Rejection("[00]", "leading zero in number", at: 1),
        Rejection("+1", "unexpected character '+'", at: 0),
        Rejection(".5", "unexpected character '.'", at: 0),
        Rejection("[-.5]", "unexpected character '.' (expected a digit)", at: 2),
        Rejection("1.", "unexpected end of input", at: 2),
        Rejection("[1.]", "expected a digit after '.'", at: 3),
        Rejection("1.e5", "expected a digit after '.'", at: 2),
        Rejection("1e", "unexpected end of input", at: 2),
        Rejection("[1e]", "expected a digit in the exponent", at: 3),
        Rejection("1e+", "unexpected end of input", at: 3),
        Rejection("[1E-]", "expected a digit in the exponent", at: 4),
        Rejection("1e+-1", "expected a digit in the exponent", at: 3),
        Rejection("-", "unexpected end of input", at: 1),
        Rejection("--1", "unexpected character '-' (expected a digit)", at: 1),
        Rejection("- 1", "unexpected byte 0x20 (expected a digit)", at: 1),
        Rejection("1.5.5", "trailing data after the value", at: 3),
    ]

    static let strings: [Rejection] = [
        Rejection(#""abc"#, "unexpected end of input", at: 4),
        Rejection(#""\"#, "unexpected end of input", at: 2),
        Rejection(#""a\"#, "unexpected end of input", at: 3),
        Rejection("\"a\tb\"", "unescaped control character 0x09 in string", at: 2),
        Rejection("\"a\nb\"", "unescaped control character 0x0A in string", at: 2),
        Rejection("\"a\\nb\rc\"", "unescaped control character 0x0D in string", at: 5),
        Rejection(bytes: [0x22, 0x61, 0x00, 0x22], "unescaped control character 0x00 in string", at: 2),
        Rejection(bytes: [0x22, 0x1F, 0x22], "unescaped control character 0x1F in string", at: 1),
        Rejection(#""\x""#, "invalid escape '\\x'", at: 1),
        Rejection(#""\U0041""#, "invalid escape '\\U'", at: 1),
        Rejection(#""\'""#, "invalid escape '\\''", at: 1),
        Rejection(#""\a""#, "invalid escape '\\a'", at: 1),
        Rejection(#""\0""#, "invalid escape '\\0'", at: 1),
        Rejection("\"\\\t\"", "invalid escape \\ followed by byte 0x09", at: 1),
        Rejection(#""\u12""#, "unexpected character '\"' in \\u escape (expected a hex digit)", at: 5),
        Rejection(#""\u12G4""#, "unexpected character 'G' in \\u escape (expected a hex digit)", at: 5),
        Rejection(#""\u004"#, "unexpected end of input", at: 6),
        Rejection(#""\u+123""#, "unexpected character '+' in \\u escape (expected a hex digit)", at: 3),
        // Surrogates must come as a high-low pair.
        Rejection(#""\uD800""#, "lone surrogate \\uD800", at: 1),
        Rejection(#""\uDC00""#, "lone surrogate \\uDC00", at: 1),
        Rejection(#""\udfff""#, "lone surrogate \\uDFFF", at: 1),
        Rejection(#""x\uD800\u0041""#, "lone surrogate \\uD800", at: 2),
        Rejection(#""\uD800x""#, "lone surrogate \\uD800", at: 1),
        Rejection(#""\uD800\uD800""#, "lone surrogate \\uD800", at: 1),
        Rejection(#""\uDE00\uD83D""#, "lone surrogate \\uDE00", at: 1),
        Rejection(#""\uD83D\n""#, "lone surrogate \\uD83D", at: 1),
        Rejection(#""\uD83D\uDE0""#, "unexpected character '\"' in \\u escape (expected a hex digit)", at: 12),
        Rejection(#""\uD83D"#, "lone surrogate \\uD83D", at: 1),
    ]

    static let utf8Cases: [Rejection] = [
        Rejection(bytes: [0x22, 0xC0, 0x80, 0x22], "invalid UTF-8", at: 1),  // overlong NUL
        Rejection(bytes: [0x22, 0xC1, 0xBF, 0x22], "invalid UTF-8", at: 1),  // overlong 0x7F
        Rejection(bytes: [0x22, 0x61, 0xE0, 0x80, 0x80, 0x22], "invalid UTF-8", at: 2),  // overlong 3-byte
        Rejection(bytes: [0x22, 0xE0, 0x9F, 0xBF, 0x22], "invalid UTF-8", at: 1),  // overlong U+07FF
        Rejection(bytes: [0x22, 0xF0, 0x80, 0x80, 0x80, 0x22], "invalid UTF-8", at: 1),  // overlong 4-byte
        Rejection(bytes: [0x22, 0xF0, 0x8F, 0xBF, 0xBF, 0x22], "invalid UTF-8", at: 1),  // overlong U+FFFF
        Rejection(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8", at: 1),  // U+D800 encoded
        Rejection(bytes: [0x22, 0x61, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8", at: 2),
        Rejection(bytes: [0x22, 0xC3, 0xA9, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8", at: 3),
        Rejection(bytes: [0x22, 0xE2, 0x82, 0xAC, 0xF0, 0x8F, 0x80, 0x80, 0x22], "invalid UTF-8", at: 4),
        Rejection(bytes: [0x22, 0xE2, 0x82, 0xAC, 0xE2, 0x82, 0x41, 0x22], "invalid UTF-8", at: 4),
        Rejection(bytes: [0x22, 0xF0, 0x9F, 0x98, 0x80, 0xF0, 0x9F, 0x98, 0x22], "invalid UTF-8", at: 5),
        Rejection(bytes: [0x22, 0xED, 0xBF, 0xBF, 0x22], "invalid UTF-8", at: 1),  // U+DFFF encoded
        Rejection(bytes: [0x22, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80, 0x22], "invalid UTF-8", at: 1),  // CESU-8 pair
        Rejection(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8", at: 1),  // U+110000
        Rejection(bytes: [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], "invalid UTF-8", at: 1),
        Rejection(bytes: [0x22, 0xF8, 0x88, 0x80, 0x80, 0x80, 0x22], "invalid UTF-8", at: 1),  // 5-byte form
        Rejection(bytes: [0x22, 0xFF, 0x22], "invalid UTF-8", at: 1),
        Rejection(bytes: [0x22, 0xFE, 0x22], "invalid UTF-8", at: 1),
        Rejection(bytes: [0x22, 0x80, 0x22], "invalid UTF-8", at: 1),  // stray continuation
        Rejection(bytes: [0x22, 0x61, 0xBF, 0x22], "invalid UTF-8", at: 2),
        Rejection(bytes: [0x22, 0xE2, 0x82, 0x22], "invalid UTF-8", at: 1),  // truncated €
        Rejection(bytes: [0x22, 0xF0, 0x9F, 0x98, 0x22], "invalid UTF-8", at: 1),  // truncated 😀
        Rejection(bytes: [0x22, 0xC3, 0x41, 0x22], "invalid UTF-8", at: 1),
        Rejection(bytes: [0x22, 0x61, 0x62, 0xC3, 0x22], "invalid UTF-8", at: 3),
        Rejection(bytes: [0x22, 0xC3], "unexpected end of input", at: 2),
        // Escapes before or after bad bytes: the slow path must still find the exact offset.
        Rejection(bytes: [0x22, 0x5C, 0x6E, 0xC3, 0x22], "invalid UTF-8", at: 3),
        Rejection(bytes: [0x22, 0xC3, 0x5C, 0x6E, 0x22], "invalid UTF-8", at: 1),
        Rejection(bytes: [0x22, 0xE2, 0x82] + utf8(#"\u00AC""#), "invalid UTF-8", at: 1),
        Rejection(bytes: [0x22, 0xC3, 0xA9, 0x5C, 0x74, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8", at: 5),
        // Keys are strings too.
        Rejection(bytes: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], "invalid UTF-8", at: 2),
    ]

    static let keys: [Rejection] = [
        Rejection(#"{"a":1,"a":2}"#, #"duplicate key "a""#, at: 7),
        Rejection(#"{"a":1,"b":2,"a":3}"#, #"duplicate key "a""#, at: 13),
        Rejection(#"{"x":{"a":1,"a":1}}"#, #"duplicate key "a""#, at: 12),
        Rejection(#"{"a":1,"\u0061":2}"#, #"duplicate key "a""#, at: 7),
        Rejection(#"{"":1,"":2}"#, #"duplicate key """#, at: 6),
        Rejection(#"{"q\"":1,"q\"":2}"#, #"duplicate key "q\"""#, at: 9),
        // Canonically equivalent keys would be ambiguous to any String-keyed lookup, so they count as duplicates.
        Rejection(#"{"é":1,"e\u0301":2}"#, #"duplicate key "é""#, at: 8),
    ]

    @Test("structure", arguments: structure)
    func structureRejected(_ testCase: Rejection) {
        expectRejected(testCase)
    }

    @Test("numbers", arguments: numbers)
    func numbersRejected(_ testCase: Rejection) {
        expectRejected(testCase)
    }

    @Test("strings and escapes", arguments: strings)
    func stringsRejected(_ testCase: Rejection) {
        expectRejected(testCase)
    }

    @Test("UTF-8", arguments: utf8Cases)
    func utf8Rejected(_ testCase: Rejection) {
        expectRejected(testCase)
    }

    @Test("duplicate keys", arguments: keys)
    func keysRejected(_ testCase: Rejection) {
        expectRejected(testCase)
    }

    /// Small objects scan for duplicates and large ones switch to a set; both, and the switch-over, must catch all.
    @Test("duplicates are found at every position around the scan-to-set switch", arguments: [1, 2, 15, 16, 17, 18, 40])
    func duplicateAtEveryPosition(memberCount: Int) {
        let members = (0..<memberCount).map { "\"k\($0)\":\($0)" }
        for duplicated in 0..<memberCount {
            let prefix = "{" + members.joined(separator: ",") + ","
            let text = prefix + "\"k\(duplicated)\":0}"
            expectRejected(Rejection(text, "duplicate key \"k\(duplicated)\"", at: prefix.utf8.count))
        }
        let unique = "{" + members.joined(separator: ",") + ",\"k\(memberCount)\":0}"
        #expect(throws: Never.self) { try JSONParser.parse(unique) }
    }

    @Test("a duplicate key's error quotes it safely and shortens it")
    func duplicateKeyQuoting() throws {
        let long = String(repeating: "x", count: 1_000)
        let error = #expect(throws: JSONSyntaxError.self) {
            try JSONParser.parse("{\"\(long)\":1,\"\(long)\":2}")
        }
        #expect(error?.reason == "duplicate key \"" + String(repeating: "x", count: 61) + "...\"")
        let control = #expect(throws: JSONSyntaxError.self) {
            try JSONParser.parse(#"{"a\nb":1,"a\nb":2}"#)
        }
        #expect(control?.reason == #"duplicate key "a\nb""#)
    }

    @Test("error description names reason and offset")
    func errorDescription() {
        #expect(JSONSyntaxError(offset: 12, reason: "unexpected character 'x'").description
            == "unexpected character 'x' at byte 12")
    }

    @Test("an empty raw buffer is an empty body")
    func emptyRawBuffer() {
        let error = #expect(throws: JSONSyntaxError.self) {
            try JSONParser.parse(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        #expect(error == JSONSyntaxError(offset: 0, reason: "empty body"))
    }

    private func expectRejected(_ testCase: Rejection, sourceLocation: SourceLocation = #_sourceLocation) {
        switch outcome(testCase.input) {
        case .success(let value):
            Issue.record("accepted as \(value)", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(error == JSONSyntaxError(offset: testCase.offset, reason: testCase.reason),
                    sourceLocation: sourceLocation)
        }
    }
}
