import Testing
import StrictJSON

@Suite("JSONObjectReader")
struct ObjectReaderTests {
    func reader(_ text: String, path: String = "") throws -> JSONObjectReader {
        try JSONObjectReader(try JSONParser.parse(text), path: path)
    }

    func fieldError(_ body: () throws(JSONFieldError) -> Void) -> JSONFieldError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    @Test("a strict request body: every field read, nothing unknown")
    func fullBody() throws {
        var body = try reader(#"""
            {"name":"edge","port":8443,"enabled":true,"flags":["a","b"],"note":null,
             "ipFilter":{"include":["10.0.0.0/8"]}}
            """#)
        #expect(try body.requiredString("name") == "edge")
        #expect(try body.requiredInt("port", in: 1...65535) == 8443)
        #expect(try body.optionalBool("enabled") == true)
        #expect(try body.optionalStringArray("flags") == ["a", "b"])
        #expect(try body.optionalString("note") == nil)
        #expect(try body.optionalInt("ttl", in: 0...86_400) == nil)
        var filter = try #require(try body.optionalObject("ipFilter"))
        #expect(filter.objectPath == "ipFilter")
        #expect(try filter.optionalStringArray("include") == ["10.0.0.0/8"])
        #expect(try filter.optionalStringArray("exclude") == nil)
        #expect(throws: Never.self) { try filter.rejectUnknownKeys() }
        #expect(throws: Never.self) { try body.rejectUnknownKeys() }
    }

    @Test("the body must be an object")
    func notAnObject() {
        for value in [JSONValue.null, true, 1, "s", []] {
            #expect(throws: JSONFieldError(field: "", reason: "must be an object")) { try JSONObjectReader(value) }
        }
        #expect(throws: JSONFieldError(field: "rules[3]", reason: "must be an object")) {
            try JSONObjectReader([], path: "rules[3]")
        }
    }

    @Test("unknown fields: the first unconsumed key in document order, with its path")
    func unknownFields() throws {
        var body = try reader(#"{"a":1,"zz":2,"b":3,"yy":4}"#)
        _ = body.value("a")
        _ = body.value("b")
        _ = body.value("missing")
        #expect(body.unconsumedKeys == ["zz", "yy"])
        #expect(throws: JSONFieldError(field: "zz", reason: "is not a known field")) { try body.rejectUnknownKeys() }

        var outer = try reader(#"{"ipFilter":{"include":[],"exlude":[]}}"#)
        var filter = try #require(try outer.optionalObject("ipFilter"))
        _ = try filter.optionalStringArray("include")
        #expect(throws: Never.self) { try outer.rejectUnknownKeys() }
        #expect(throws: JSONFieldError(field: "ipFilter.exlude", reason: "is not a known field")) {
            try filter.rejectUnknownKeys()
        }
    }

    @Test("consuming is tracked whatever the outcome: a key read with the wrong type is not also unknown")
    func consumedOnTypeError() throws {
        var body = try reader(#"{"name":5}"#)
        #expect(throws: JSONFieldError(field: "name", reason: "must be a string")) { try body.requiredString("name") }
        #expect(throws: Never.self) { try body.rejectUnknownKeys() }
    }

    @Test("an empty object has nothing unknown; reading twice is fine")
    func emptyAndRepeated() throws {
        #expect(throws: Never.self) { try reader("{}").rejectUnknownKeys() }
        var body = try reader(#"{"a":"x"}"#)
        #expect(try body.requiredString("a") == "x")
        #expect(try body.requiredString("a") == "x")
        #expect(body.value("a") == "x")
    }

    @Test("long unknown keys are shortened in the error")
    func longUnknownKey() throws {
        let key = String(repeating: "k", count: 500)
        let body = try reader("{\"\(key)\":1}")
        let error = fieldError { () throws(JSONFieldError) in try body.rejectUnknownKeys() }
        #expect(error?.field == String(repeating: "k", count: 61) + "...")
    }

    /// Accessor, JSON for its key `f`, and the error it must raise (nil for success).
    static let typeErrors: [(String, String, JSONFieldError?)] = [
        ("requiredString", "{}", JSONFieldError(field: "f", reason: "is required")),
        ("requiredString", #"{"f":null}"#, JSONFieldError(field: "f", reason: "must be a string")),
        ("requiredString", #"{"f":1}"#, JSONFieldError(field: "f", reason: "must be a string")),
        ("requiredString", #"{"f":""}"#, nil),
        ("optionalString", #"{"f":null}"#, nil),
        ("optionalString", #"{"f":[]}"#, JSONFieldError(field: "f", reason: "must be a string")),
        ("requiredBool", "{}", JSONFieldError(field: "f", reason: "is required")),
        ("requiredBool", #"{"f":"true"}"#, JSONFieldError(field: "f", reason: "must be a boolean")),
        ("optionalBool", #"{"f":0}"#, JSONFieldError(field: "f", reason: "must be a boolean")),
        ("optionalBool", #"{"f":false}"#, nil),
        ("optionalBool", "{}", nil),
        ("optionalStringArray", #"{"f":"a"}"#, JSONFieldError(field: "f", reason: "must be an array")),
        ("optionalStringArray", #"{"f":["a",1]}"#, JSONFieldError(field: "f[1]", reason: "must be a string")),
        ("optionalStringArray", #"{"f":["a",null]}"#, JSONFieldError(field: "f[1]", reason: "must be a string")),
        ("optionalStringArray", #"{"f":[]}"#, nil),
        ("optionalStringArray", #"{"f":null}"#, nil),
        ("requiredStringArray", "{}", JSONFieldError(field: "f", reason: "is required")),
        ("requiredStringArray", #"{"f":null}"#, JSONFieldError(field: "f", reason: "must be an array")),
        ("requiredStringArray", #"{"f":[{}]}"#, JSONFieldError(field: "f[0]", reason: "must be a string")),
        ("optionalObject", #"{"f":[]}"#, JSONFieldError(field: "f", reason: "must be an object")),
        ("optionalObject", #"{"f":null}"#, nil),
        ("requiredObject", "{}", JSONFieldError(field: "f", reason: "is required")),
        ("requiredObject", #"{"f":null}"#, JSONFieldError(field: "f", reason: "must be an object")),
        ("optionalObjectArray", #"{"f":[{},1]}"#, JSONFieldError(field: "f[1]", reason: "must be an object")),
        ("optionalArray", #"{"f":{}}"#, JSONFieldError(field: "f", reason: "must be an array")),
    ]

    @Test("type errors name the field", arguments: typeErrors)
    func typeError(accessor: String, json: String, expected: JSONFieldError?) throws {
        var body = try reader(json)
        let error = fieldError { () throws(JSONFieldError) in
            switch accessor {
            case "requiredString": _ = try body.requiredString("f")
            case "optionalString": _ = try body.optionalString("f")
            case "requiredBool": _ = try body.requiredBool("f")
            case "optionalBool": _ = try body.optionalBool("f")
            case "optionalStringArray": _ = try body.optionalStringArray("f")
            case "requiredStringArray": _ = try body.requiredStringArray("f")
            case "optionalObject": _ = try body.optionalObject("f")
            case "requiredObject": _ = try body.requiredObject("f")
            case "optionalObjectArray": _ = try body.optionalObjectArray("f")
            case "optionalArray": _ = try body.optionalArray("f")
            default: Issue.record("unknown accessor \(accessor)")
            }
        }
        #expect(error == expected)
        // Whatever the outcome, the accessor took the key: it must not also be reported as unknown.
        #expect(body.unconsumedKeys.isEmpty)
    }

    /// JSON for `port` and the outcome of `requiredInt("port", in: 1...65535)`.
    static let ports: [(String, Int64?)] = [
        ("1", 1), ("65535", 65535), ("8080", 8080),
        ("0", nil), ("65536", nil), ("-1", nil), ("8080.0", nil), ("8.08e3", nil), ("\"8080\"", nil), ("true", nil),
        ("null", nil), ("[]", nil), ("1e999999", nil), ("99999999999999999999", nil),
    ]

    @Test("integers must be plain literals within the range", arguments: ports)
    func integerRange(json: String, expected: Int64?) throws {
        var body = try reader("{\"port\":\(json)}")
        let outer = try reader(#"{"listen":{"port":"#  + json + "}}")
        do {
            #expect(try body.requiredInt("port", in: 1...65535) == expected)
        } catch {
            #expect(expected == nil)
            #expect(error == JSONFieldError(field: "port", reason: "must be an integer in 1...65535"))
        }
        var nested = outer
        var listen = try #require(try nested.optionalObject("listen"))
        // Optional accessors treat null as absent; everything else that is not a valid port is an error.
        if expected == nil && json != "null" {
            #expect(throws: JSONFieldError(field: "listen.port", reason: "must be an integer in 1...65535")) {
                try listen.optionalInt("port", in: 1...65535)
            }
        }
    }

    @Test("integer edges: absent, null, full Int64 range")
    func integerEdges() throws {
        var body = try reader(#"{"n":null,"min":-9223372036854775808,"max":9223372036854775807}"#)
        #expect(throws: JSONFieldError(field: "port", reason: "is required")) {
            try body.requiredInt("port", in: 1...65535)
        }
        #expect(try body.optionalInt("n", in: 0...1) == nil)
        #expect(try body.requiredInt("min", in: .min ... .max) == .min)
        #expect(try body.optionalInt("max", in: .min ... .max) == .max)
        #expect(throws: JSONFieldError(field: "n", reason: "must be an integer in 0...1")) {
            try body.requiredInt("n", in: 0...1)
        }
    }

    @Test("nested paths: objects in objects, arrays of objects, array elements")
    func nestedPaths() throws {
        var body = try reader(#"""
            {"user":{"name":{"first":1}},"rules":[{"port":80},{"port":0}],"ipFilter":{"include":["a","b",3]}}
            """#)
        var user = try #require(try body.optionalObject("user"))
        var name = try #require(try user.optionalObject("name"))
        #expect(name.path(of: "first") == "user.name.first")
        #expect(throws: JSONFieldError(field: "user.name.first", reason: "must be a string")) {
            try name.requiredString("first")
        }
        var rules = try #require(try body.optionalObjectArray("rules"))
        #expect(rules.map(\.objectPath) == ["rules[0]", "rules[1]"])
        #expect(try rules[0].requiredInt("port", in: 1...65535) == 80)
        #expect(throws: JSONFieldError(field: "rules[1].port", reason: "must be an integer in 1...65535")) {
            try rules[1].requiredInt("port", in: 1...65535)
        }
        var filter = try body.requiredObject("ipFilter")
        #expect(throws: JSONFieldError(field: "ipFilter.include[2]", reason: "must be a string")) {
            try filter.optionalStringArray("include")
        }
        #expect(body.path(of: "x", index: 4) == "x[4]")
        #expect(filter.path(of: "include", index: 2) == "ipFilter.include[2]")
    }

    @Test("value() distinguishes absent from null and marks the key consumed")
    func rawValues() throws {
        var body = try reader(#"{"a":null,"b":{"c":[1]}}"#)
        #expect(body.value("a") == .null)
        #expect(body.value("x") == nil)
        #expect(body.unconsumedKeys == ["b"])
        #expect(body.value("b") == ["c": [1]])
        #expect(body.unconsumedKeys.isEmpty)
    }

    @Test("field errors describe themselves for logs")
    func errorDescription() {
        #expect(JSONFieldError(field: "a.b[1]", reason: "must be a string").description == "a.b[1] must be a string")
        #expect(JSONFieldError(field: "", reason: "must be an object").description == "body must be an object")
    }
}
