import StrictJSON

/// A small seeded generator so property tests are reproducible: a failure names its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The UTF-8 bytes of `text`.
func utf8(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

/// `value` written compactly by `JSONWriter`.
func written(_ value: JSONValue) -> [UInt8] {
    var writer = JSONWriter()
    writer.value(value)
    return writer.bytes
}

/// Parses, returning the error instead of throwing, so tables can compare outcomes directly.
func outcome(_ bytes: [UInt8], maxDepth: Int = 64) -> Result<JSONValue, JSONSyntaxError> {
    do {
        return .success(try JSONParser.parse(bytes, maxDepth: maxDepth))
    } catch {
        return .failure(error)
    }
}

/// Builds random JSON values covering every case, awkward strings and numbers included.
struct RandomJSON {
    var rng: SplitMix64

    /// Scalars chosen to stress escaping and UTF-8: quotes, backslashes, every kind of control character,
    /// two-, three- and four-byte sequences, U+2028, NUL, the largest scalars and a combining mark.
    static let awkwardScalars: [Unicode.Scalar] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{00}", "\u{01}", "\u{1F}",
        "\u{7F}", "é", "ß", "€", "\u{2028}", "\u{FFFD}", "\u{FFFF}", "😀", "\u{10FFFF}", "\u{0301}", "{", "]", ",",
    ]

    mutating func string(maxLength: Int = 12) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maxLength, using: &rng) {
            if Bool.random(using: &rng) {
                scalars.append(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &rng)))
            } else {
                scalars.append(Self.awkwardScalars.randomElement(using: &rng)!)
            }
        }
        return String(scalars)
    }

    /// A random valid number literal: every optional part of the grammar appears sometimes.
    mutating func numberLiteral() -> String {
        var text = Bool.random(using: &rng) ? "-" : ""
        if Int.random(in: 0..<4, using: &rng) == 0 {
            text += "0"
        } else {
            text += String(Int.random(in: 1...9, using: &rng))
            for _ in 0..<Int.random(in: 0...25, using: &rng) { text += String(Int.random(in: 0...9, using: &rng)) }
        }
        if Bool.random(using: &rng) {
            text += "."
            for _ in 0..<Int.random(in: 1...8, using: &rng) { text += String(Int.random(in: 0...9, using: &rng)) }
        }
        if Bool.random(using: &rng) {
            text += ["e", "E"].randomElement(using: &rng)!
            text += ["", "+", "-"].randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...3, using: &rng) { text += String(Int.random(in: 0...9, using: &rng)) }
        }
        return text
    }

    mutating func number() -> JSONNumber {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: JSONNumber(Int64.random(in: .min ... .max, using: &rng))
        case 1: JSONNumber(Int64.random(in: -1000...1000, using: &rng))
        case 2: JSONNumber(finiteDouble())
        default: JSONNumber(literal: numberLiteral())
        }
    }

    /// Any finite double, from raw bit patterns so subnormals and extremes appear.
    mutating func finiteDouble() -> Double {
        while true {
            let value = Double(bitPattern: rng.next())
            if value.isFinite { return value }
        }
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        let scalarOnly = depth >= 4
        switch Int.random(in: 0..<(scalarOnly ? 4 : 6), using: &rng) {
        case 0: return Bool.random(using: &rng) ? .null : .bool(Bool.random(using: &rng))
        case 1: return .number(number())
        case 2, 3: return .string(string())
        case 4:
            return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth + 1) })
        default:
            // Keys must be unique under String equality, which is what the parser checks.
            var seen = Set<String>()
            var members: [(key: String, value: JSONValue)] = []
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                let key = string(maxLength: 6)
                if seen.insert(key).inserted {
                    members.append((key: key, value: value(depth: depth + 1)))
                }
            }
            return .object(JSONObject(members))
        }
    }
}

/// Valid documents, small and varied, used as the seed corpus for cross-checks and mutations.
let validCorpus: [String] = [
    #"null"#, #"true"#, #"false"#, #"0"#, #"-0"#, #"42"#, #"-17"#, #"3.25"#, #"-0.5e-3"#, #"6.02E23"#,
    #"9223372036854775807"#, #"-9223372036854775808"#, #"1e308"#, #"5e-324"#,
    #""""#, #""hello""#, #""\"\\\/\b\f\n\r\t""#, #""\u0041\u00e9\u20AC\uD83D\uDE00""#, #""é€😀""#,
    #"[]"#, #"{}"#, #"[[], {}, [[]]]"#, #"[1, 2.5, "three", true, false, null]"#,
    #"{"a": 1, "b": [true, {"c": null}], "d": "e"}"#,
    #"{"name":"edge-fw","ports":[80,443,8443],"ipFilter":{"include":["10.0.0.0/8","192.168.1.0/24"],"exclude":[]},"ttl":3600,"enabled":true,"note":null}"#,
    "  \t\r\n{\"spaced\" :\n[ 1 ,\t2 ] }\r\n ",
    #"{"":"","\u0000":"\u0000"}"#,
    #"[{"id":1,"tags":["x","y"]},{"id":2,"tags":[]},{"id":3,"tags":["z"]}]"#,
    #"{"deep":[[[[[[[[[[{"x":[1]}]]]]]]]]]]}"#,
    #"{"unicode":"\u2028\u2029","raw":"\u007f"}"#,
]
