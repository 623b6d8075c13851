import Testing
import StrictJSON

@Suite("Round trips: parse(write(x)) == x")
struct RoundTripTests {
    @Test("hand-picked values", arguments: [
        JSONValue.null, true, false, 0, -1, 1.5, "", "é\u{0}\"\\\n😀",
        .number(JSONNumber(literal: "-0.0e-00")), .number(JSONNumber(literal: "123456789012345678901234567890")),
        [], [:], [[[]]], ["a": ["b": ["c": [1, 2, 3]]], "": .null],
        ["\u{0}": "\u{1F}", "\u{10FFFF}": "\u{2028}", "\\": "/"],
    ] as [JSONValue])
    func handPicked(_ value: JSONValue) throws {
        #expect(try JSONParser.parse(written(value)) == value)
    }

    @Test("random values", arguments: 0..<4)
    func randomValues(seed: UInt64) throws {
        var generator = RandomJSON(rng: SplitMix64(seed: seed))
        for iteration in 0..<1_000 {
            let value = generator.value()
            let bytes = written(value)
            let parsed = try JSONParser.parse(bytes)
            #expect(parsed == value, "seed \(seed) iteration \(iteration): \(String(decoding: bytes, as: UTF8.self))")
            // Writing is deterministic: the same value always gives the same bytes.
            #expect(written(parsed) == bytes)
        }
    }

    @Test("parse then write normalises whitespace only")
    func writeAfterParse() throws {
        let text = " { \"b\" : [ 1 , 2.50 , \"\\u0041\\/\" ] ,\n \"a\" : null } "
        #expect(String(decoding: written(try JSONParser.parse(text)), as: UTF8.self) == #"{"b":[1,2.50,"A/"],"a":null}"#)
    }
}
