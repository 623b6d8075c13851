/// Reads one JSON object, remembering which keys were consumed so unknown keys can be rejected.
///
/// Strict request decoding in three steps: wrap the body, take each expected field with a typed accessor (which
/// names the field in any error), then call `rejectUnknownKeys()` so a misspelt optional field is an error rather
/// than silently ignored.
///
/// ```swift
/// var body = try JSONObjectReader(try JSONParser.parse(bytes))
/// let name = try body.requiredString("name")
/// let port = try body.optionalInt("port", in: 1...65535)
/// if var filter = try body.optionalObject("ipFilter") {
///     let include = try filter.optionalStringArray("include")   // errors name "ipFilter.include[2]"
///     try filter.rejectUnknownKeys()
/// }
/// try body.rejectUnknownKeys()
/// ```
///
/// Optional accessors treat an absent key and an explicit `null` alike (nil). Required ones report an absent key as
/// "is required" and `null` like any other wrong type, e.g. "must be a string". Nested readers track their own keys:
/// call `rejectUnknownKeys()` on each.
public struct JSONObjectReader: Sendable {
    /// The object being read.
    public let object: JSONObject
    /// Path of this object in the document, `""` for the body itself.
    public let objectPath: String
    /// Per member (by index), whether an accessor has taken it.
    private var consumed: [Bool]

    /// Wraps `value`, which must be an object; `path` is where it sits in the document, for error messages.
    public init(_ value: JSONValue, path: String = "") throws(JSONFieldError) {
        guard case .object(let object) = value else {
            throw JSONFieldError(field: path, reason: "must be an object")
        }
        self.object = object
        self.objectPath = path
        self.consumed = Array(repeating: false, count: object.count)
    }

    /// The path of member `key` of this object: `"ipFilter.include"`, or just `"include"` at the top.
    public func path(of key: String) -> String {
        objectPath.isEmpty ? key : objectPath + "." + key
    }

    /// The path of element `index` of array member `key`: `"ipFilter.include[2]"`.
    public func path(of key: String, index: Int) -> String {
        path(of: key) + "[\(index)]"
    }

    /// The value of `key`, marking it consumed; nil if absent (a JSON `null` is returned as `.null`).
    public mutating func value(_ key: String) -> JSONValue? {
        guard let index = object.members.firstIndex(where: { $0.key == key }) else { return nil }
        consumed[index] = true
        return object.members[index].value
    }

    /// The value of `key`, with absent and `null` both nil.
    private mutating func nonNullValue(_ key: String) -> JSONValue? {
        switch value(key) {
        case nil, .null?: nil
        case let value?: value
        }
    }

    // MARK: - Strings

    /// A string that must be present.
    public mutating func requiredString(_ key: String) throws(JSONFieldError) -> String {
        guard let value = value(key) else { throw JSONFieldError(field: path(of: key), reason: "is required") }
        guard case .string(let string) = value else {
            throw JSONFieldError(field: path(of: key), reason: "must be a string")
        }
        return string
    }

    /// A string, or nil when absent or `null`.
    public mutating func optionalString(_ key: String) throws(JSONFieldError) -> String? {
        guard let value = nonNullValue(key) else { return nil }
        guard case .string(let string) = value else {
            throw JSONFieldError(field: path(of: key), reason: "must be a string")
        }
        return string
    }

    // MARK: - Booleans

    /// A boolean that must be present.
    public mutating func requiredBool(_ key: String) throws(JSONFieldError) -> Bool {
        guard let value = value(key) else { throw JSONFieldError(field: path(of: key), reason: "is required") }
        guard case .bool(let flag) = value else {
            throw JSONFieldError(field: path(of: key), reason: "must be a boolean")
        }
        return flag
    }

    /// A boolean, or nil when absent or `null`.
    public mutating func optionalBool(_ key: String) throws(JSONFieldError) -> Bool? {
        guard let value = nonNullValue(key) else { return nil }
        guard case .bool(let flag) = value else {
            throw JSONFieldError(field: path(of: key), reason: "must be a boolean")
        }
        return flag
    }

    // MARK: - Integers

    /// An integer in `range` that must be present.
    ///
    /// Only plain integer literals count (see `JSONNumber.int64`); `8080.0` and `8.08e3` are rejected. Every kind of
    /// wrong value gets the same reason, "must be an integer in 1...65535", which tells the client what to send.
    public mutating func requiredInt(_ key: String, in range: ClosedRange<Int64>) throws(JSONFieldError) -> Int64 {
        guard let value = value(key) else { throw JSONFieldError(field: path(of: key), reason: "is required") }
        return try integer(value, in: range, field: path(of: key))
    }

    /// An integer in `range`, or nil when absent or `null`.
    public mutating func optionalInt(_ key: String, in range: ClosedRange<Int64>) throws(JSONFieldError) -> Int64? {
        guard let value = nonNullValue(key) else { return nil }
        return try integer(value, in: range, field: path(of: key))
    }

    /// `value` as an integer in `range`.
    private func integer(_ value: JSONValue, in range: ClosedRange<Int64>, field: @autoclosure () -> String) throws(JSONFieldError) -> Int64 {
        guard case .number(let number) = value, let integer = number.int64, range.contains(integer) else {
            throw JSONFieldError(field: field(), reason: "must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return integer
    }

    // MARK: - Arrays

    /// An array of strings that must be present; element errors name `key[i]`.
    public mutating func requiredStringArray(_ key: String) throws(JSONFieldError) -> [String] {
        switch value(key) {
        case nil: throw JSONFieldError(field: path(of: key), reason: "is required")
        case .null?: throw JSONFieldError(field: path(of: key), reason: "must be an array")
        default: return try optionalStringArray(key) ?? []
        }
    }

    /// An array of strings, or nil when absent or `null`; element errors name `key[i]`.
    public mutating func optionalStringArray(_ key: String) throws(JSONFieldError) -> [String]? {
        guard let elements = try optionalArray(key) else { return nil }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard case .string(let string) = element else {
                throw JSONFieldError(field: path(of: key, index: index), reason: "must be a string")
            }
            strings.append(string)
        }
        return strings
    }

    /// An array of any values, or nil when absent or `null`.
    public mutating func optionalArray(_ key: String) throws(JSONFieldError) -> [JSONValue]? {
        guard let value = nonNullValue(key) else { return nil }
        guard case .array(let elements) = value else {
            throw JSONFieldError(field: path(of: key), reason: "must be an array")
        }
        return elements
    }

    /// An array of objects, each wrapped in a reader whose path is `key[i]`, or nil when absent or `null`.
    public mutating func optionalObjectArray(_ key: String) throws(JSONFieldError) -> [JSONObjectReader]? {
        guard let elements = try optionalArray(key) else { return nil }
        var readers: [JSONObjectReader] = []
        readers.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            readers.append(try JSONObjectReader(element, path: path(of: key, index: index)))
        }
        return readers
    }

    // MARK: - Objects

    /// A nested object that must be present, as a reader whose errors carry its path.
    public mutating func requiredObject(_ key: String) throws(JSONFieldError) -> JSONObjectReader {
        guard let value = value(key) else { throw JSONFieldError(field: path(of: key), reason: "is required") }
        return try JSONObjectReader(value, path: path(of: key))
    }

    /// A nested object as a reader whose errors carry its path, or nil when absent or `null`.
    public mutating func optionalObject(_ key: String) throws(JSONFieldError) -> JSONObjectReader? {
        guard let value = nonNullValue(key) else { return nil }
        return try JSONObjectReader(value, path: path(of: key))
    }

    // MARK: - Completeness

    /// The keys no accessor has taken, in document order.
    public var unconsumedKeys: [String] {
        zip(object.members, consumed).compactMap { member, taken in taken ? nil : member.key }
    }

    /// Throws "unknown field" for the first key (in document order) that no accessor has taken.
    ///
    /// A key over 64 bytes is shortened in the error, since it is the client's text echoed back.
    public func rejectUnknownKeys() throws(JSONFieldError) {
        for (member, taken) in zip(object.members, consumed) where !taken {
            let key = member.key.utf8.count > 64 ? String(member.key.unicodeScalars.prefix(61)) + "..." : member.key
            throw JSONFieldError(field: path(of: key), reason: "is not a known field")
        }
    }
}
