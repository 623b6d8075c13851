/// Members whose value must be one of an enum's string raw values.
extension JSONObjectReader {
    /// A required string that is one of `E`'s raw values.
    @inlinable
    public mutating func requiredEnum<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(JSONFieldError)
        -> E where E.RawValue == String
    {
        let text = try requiredString(key)
        return try Self.enumValue(text, E.self, field: path(of: key))
    }

    /// An optional string that is one of `E`'s raw values (absent or null is nil).
    @inlinable
    public mutating func optionalEnum<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(JSONFieldError)
        -> E? where E.RawValue == String
    {
        guard let text = try optionalString(key) else { return nil }
        return try Self.enumValue(text, E.self, field: path(of: key))
    }

    /// `text` as one of `E`'s raw values; the error lists the choices. Inlinable, so callers get a
    /// specialised copy; `field` is only built for the error.
    @inlinable
    public static func enumValue<E: RawRepresentable & CaseIterable>(
        _ text: String, _ type: E.Type, field: @autoclosure () -> String)
        throws(JSONFieldError) -> E where E.RawValue == String
    {
        guard let value = E(rawValue: text) else {
            let choices = E.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw JSONFieldError(field: field(), reason: "must be one of \(choices)")
        }
        return value
    }
}
