import Testing
import StrictJSON

@Suite("Nesting depth")
struct DepthTests {
    static func nestedArrays(_ depth: Int) -> [UInt8] {
        Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
    }

    static func nestedObjects(_ depth: Int) -> [UInt8] {
        utf8(String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth))
    }

    @Test("exactly maxDepth levels are allowed, one more is not")
    func limit() throws {
        #expect(throws: Never.self) { try JSONParser.parse(Self.nestedArrays(64)) }
        #expect(throws: Never.self) { try JSONParser.parse(Self.nestedObjects(64)) }
        #expect(throws: JSONSyntaxError(offset: 64, reason: "nesting deeper than 64")) {
            try JSONParser.parse(Self.nestedArrays(65))
        }
        #expect(throws: JSONSyntaxError(offset: 64 * 5, reason: "nesting deeper than 64")) {
            try JSONParser.parse(Self.nestedObjects(65))
        }
    }

    @Test("arrays and objects count together")
    func mixed() {
        let text = String(repeating: #"[{"k":"#, count: 3) + "0" + String(repeating: "}]", count: 3)
        #expect(throws: Never.self) { try JSONParser.parse(text, maxDepth: 6) }
        #expect(throws: JSONSyntaxError(offset: 13, reason: "nesting deeper than 5")) {
            try JSONParser.parse(text, maxDepth: 5)
        }
    }

    @Test("maxDepth 0 allows only scalars; negative acts as 0")
    func zeroDepth() {
        #expect(throws: Never.self) { try JSONParser.parse("1", maxDepth: 0) }
        #expect(throws: JSONSyntaxError(offset: 0, reason: "nesting deeper than 0")) {
            try JSONParser.parse("[]", maxDepth: 0)
        }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("{}", maxDepth: -5) }
    }

    @Test("100,000 open brackets are an error, not a stack overflow")
    func hundredThousandBrackets() {
        let open = Array(repeating: UInt8(ascii: "["), count: 100_000)
        #expect(throws: JSONSyntaxError(offset: 64, reason: "nesting deeper than 64")) {
            try JSONParser.parse(open)
        }
        #expect(throws: JSONSyntaxError(offset: 64, reason: "nesting deeper than 64")) {
            try JSONParser.parse(Self.nestedArrays(100_000))
        }
        // With no effective limit the parser still uses no recursion: it runs out of input, not stack.
        #expect(throws: JSONSyntaxError(offset: 100_000, reason: "unexpected end of input")) {
            try JSONParser.parse(open, maxDepth: .max)
        }
        let objects = utf8(String(repeating: #"{"a":"#, count: 100_000))
        #expect(throws: JSONSyntaxError(offset: 500_000, reason: "unexpected end of input")) {
            try JSONParser.parse(objects, maxDepth: .max)
        }
    }

    @Test("deep but allowed documents parse to the right shape")
    func deepValue() throws {
        var value = try JSONParser.parse(Self.nestedArrays(1_000), maxDepth: 1_000)
        var depth = 0
        while case .array(let elements) = value, let first = elements.first {
            depth += 1
            value = first
        }
        #expect(depth == 999)
        #expect(value == [])
    }
}
