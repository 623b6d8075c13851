/// One JSON value, as parsed by `JSONParser` or built by hand for `JSONWriter`.
///
/// Equality is structural: object members must match in document order and numbers compare by literal text
/// (see `JSONObject` and `JSONNumber`), so two values are equal exactly when they would be written out the same way.
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, kept as its literal text.
    case number(JSONNumber)
    /// A string, with escapes already decoded.
    case string(String)
    /// An array, elements in document order.
    case array([JSONValue])
    /// An object, members in document order.
    case object(JSONObject)

    /// The JSON name of this value's type, for error messages such as "expected a string, got a number".
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// The value as compact JSON text, so test failures and logs show what a value actually is.
    public var description: String {
        var writer = JSONWriter()
        writer.value(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
