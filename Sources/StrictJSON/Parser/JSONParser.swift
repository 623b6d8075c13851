/// Strict RFC 8259 parsing of one JSON document.
///
/// Accepts exactly one value with optional surrounding whitespace (space, tab, CR, LF) and nothing else: no
/// comments, trailing commas, `NaN`/`Infinity`, leading zeros, `+1`, `.5`, `1.`, byte-order mark, unescaped control
/// characters in strings, invalid UTF-8 (overlong forms, encoded surrogates, values above U+10FFFF, truncated
/// sequences) or lone `\u` surrogates. Duplicate keys in one object are rejected, because different consumers would
/// silently disagree about which one wins. `\u0000` is accepted inside strings; whether a NUL is acceptable in a
/// given field is the API layer's decision. Empty or whitespace-only input is the error "empty body".
///
/// Numbers of any size are accepted and kept as text (see `JSONNumber`). Nesting of arrays and objects is limited
/// by `maxDepth` and tracked without recursion, so deep input cannot exhaust the stack. A large `maxDepth` does
/// allow values whose later destruction, comparison or writing recurses once per level, so keep it modest.
///
/// Every failure is a thrown `JSONSyntaxError`; no input traps.
public enum JSONParser {
    /// The nesting limit used unless a caller asks for another: far more than any request body needs.
    public static let defaultMaxDepth = 64

    /// Parses a document held in a raw buffer, e.g. a request body still owned by the HTTP server.
    public static func parse(
        _ buffer: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth
    ) throws(JSONSyntaxError) -> JSONValue {
        guard !buffer.isEmpty else { throw JSONSyntaxError(offset: 0, reason: "empty body") }
        // Bytes of unknown type are viewed as UInt8 only for the duration of the parse.
        let result = buffer.withMemoryRebound(to: UInt8.self) { bytes in
            parseResult(bytes, maxDepth: maxDepth)
        }
        return try result.get()
    }

    /// Parses a document held in a byte array.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            parseResult(buffer, maxDepth: maxDepth)
        }
        return try result.get()
    }

    /// Parses a document held in a slice of a byte array.
    public static func parse(
        _ bytes: ArraySlice<UInt8>, maxDepth: Int = defaultMaxDepth
    ) throws(JSONSyntaxError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            parseResult(buffer, maxDepth: maxDepth)
        }
        return try result.get()
    }

    /// Parses a document held in a string (its UTF-8), mainly for tests and configuration text.
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            parseResult(buffer, maxDepth: maxDepth)
        }
        return try result.get()
    }

    /// The parse as a `Result`, so errors cross the standard library's untyped `rethrows` closures intact.
    private static func parseResult(
        _ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int
    ) -> Result<JSONValue, JSONSyntaxError> {
        var parser = ByteParser(input: bytes, maxDepth: max(0, maxDepth))
        do {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }
}
