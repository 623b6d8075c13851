import Testing
import StrictJSON

/// The parser must never trap, whatever it is fed: only return a value or throw a well-formed error. Debug builds
/// bounds-check every buffer access, so an out-of-range read here crashes the test run.
@Suite("Parser never crashes")
struct FuzzTests {
    /// Bytes biased towards JSON's own alphabet so random input gets deep into the grammar, plus UTF-8 lead and
    /// continuation bytes and control characters.
    static let alphabet: [UInt8] = Array(#"{}[]:,"\/ -+.0123456789eEtrufalsn"#.utf8)
        + [0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xED, 0xA0, 0xF0, 0x9F,
           0xF4, 0x90, 0xFF]

    @Test("random byte strings", arguments: 0..<4)
    func randomBytes(seed: UInt64) {
        var rng = SplitMix64(seed: 1_000 + seed)
        for _ in 0..<1_000 {
            let length = Int.random(in: 0...48, using: &rng)
            let fromAlphabet = Bool.random(using: &rng)
            let bytes = (0..<length).map { _ in
                fromAlphabet ? Self.alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            check(bytes)
        }
    }

    @Test("mutations of valid documents", arguments: 0..<4)
    func mutations(seed: UInt64) {
        var rng = SplitMix64(seed: 2_000 + seed)
        var generator = RandomJSON(rng: SplitMix64(seed: 3_000 + seed))
        var accepted = 0
        for iteration in 0..<1_000 {
            var bytes = iteration.isMultiple(of: 2)
                ? utf8(validCorpus.randomElement(using: &rng)!)
                : written(generator.value())
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                Self.mutate(&bytes, using: &rng)
            }
            if check(bytes) { accepted += 1 }
        }
        // Some mutations stay valid (a digit for a digit); if none did, the mutator would not be exercising much.
        #expect(accepted > 10)
    }

    /// One random edit: delete, insert, replace, duplicate a span, or truncate.
    static func mutate(_ bytes: inout [UInt8], using rng: inout SplitMix64) {
        let byte = Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
        guard !bytes.isEmpty else {
            bytes.append(byte)
            return
        }
        let position = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: bytes.remove(at: position)
        case 1: bytes.insert(byte, at: position)
        case 2: bytes[position] = byte
        case 3:
            let end = min(bytes.count, position + Int.random(in: 1...8, using: &rng))
            bytes.insert(contentsOf: bytes[position..<end], at: position)
        default: bytes.removeSubrange(position...)
        }
    }

    /// Parses `bytes` and checks the outcome is coherent; returns whether it was accepted.
    @discardableResult
    func check(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        switch outcome(bytes) {
        case .failure(let error):
            #expect((0...bytes.count).contains(error.offset), "offset out of range for \(bytes)", sourceLocation: sourceLocation)
            #expect(!error.reason.isEmpty, sourceLocation: sourceLocation)
            // The same input always fails the same way.
            #expect(outcome(bytes) == .failure(error), sourceLocation: sourceLocation)
            return false
        case .success(let value):
            // Only ASCII is allowed outside strings and strings are validated, so anything accepted is UTF-8.
            #expect(String(validating: bytes, as: UTF8.self) != nil, "accepted invalid UTF-8 \(bytes)",
                    sourceLocation: sourceLocation)
            #expect(outcome(written(value)) == .success(value), "\(value) does not survive a rewrite",
                    sourceLocation: sourceLocation)
            return true
        }
    }
}

@Suite("UTF-8 validation agrees with the standard library")
struct UTF8DifferentialTests {
    /// Random bytes with no quote, backslash or control byte, so the string's only possible fault is its UTF-8.
    @Test("random string contents", arguments: 0..<4)
    func randomContents(seed: UInt64) {
        var rng = SplitMix64(seed: 4_000 + seed)
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
                                    0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        for _ in 0..<2_000 {
            let contents = (0..<Int.random(in: 0...12, using: &rng)).map { _ in
                interesting.randomElement(using: &rng)!
            }
            let expected = String(validating: contents, as: UTF8.self)
            // Also through the escape path: a leading \n must not change the verdict.
            for prefix in [[], utf8(#"\n"#)] {
                let document = [0x22] + prefix + contents + [0x22]
                switch (outcome(document), expected) {
                case (.success(let value), let string?):
                    #expect(value == .string((prefix.isEmpty ? "" : "\n") + string))
                case (.failure(let error), nil):
                    #expect(error.reason == "invalid UTF-8")
                    // The offset is the start of the first bad sequence: everything before it is valid, and no
                    // prefix reaching past it is (if one were, the offset would be too early).
                    let start = 1 + prefix.count
                    let before = Array(document[start..<error.offset])
                    #expect(String(validating: before, as: UTF8.self) != nil, "\(contents) reported at \(error.offset)")
                    for end in (error.offset + 1)..<min(error.offset + 5, document.count) {
                        let longer = Array(document[start..<end])
                        #expect(String(validating: longer, as: UTF8.self) == nil, "\(contents) reported at \(error.offset)")
                    }
                case (let result, _):
                    Issue.record("\(contents): parser \(result), standard library \(String(describing: expected))")
                }
            }
        }
    }

    @Test("every valid scalar boundary encodes and decodes", arguments: [
        0x00, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF,
    ] as [UInt32])
    func boundaries(value: UInt32) throws {
        let scalar = try #require(Unicode.Scalar(value))
        let string = String(Character(scalar))
        let raw = [0x22] + utf8(string) + [0x22]
        if value >= 0x20 {
            #expect(try JSONParser.parse(raw) == .string(string))
        }
        #expect(try JSONParser.parse(written(.string(string))) == .string(string))
    }
}
