// One-call members and closures for containers: most response code writes `"key": value` pairs, and a closure
// keeps begin/end balanced by construction.

extension JSONWriter {
    /// Writes `"key": value`, or `"key": null` when `value` is nil.
    public mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        if let value { string(value) } else { null() }
    }

    /// Writes `"key": value`, or `"key": null` when `value` is nil.
    public mutating func field(_ key: String, _ value: Int?) {
        self.key(key)
        if let value { int(value) } else { null() }
    }

    /// Writes `"key": value`, or `"key": null` when `value` is nil.
    public mutating func field(_ key: String, _ value: Int64?) {
        self.key(key)
        if let value { int64(value) } else { null() }
    }

    /// Writes `"key": value`, or `"key": null` when `value` is nil.
    public mutating func field(_ key: String, _ value: UInt64?) {
        self.key(key)
        if let value { uint64(value) } else { null() }
    }

    /// Writes `"key": value` (`null` when nil or not finite).
    public mutating func field(_ key: String, _ value: Double?) {
        self.key(key)
        if let value { double(value) } else { null() }
    }

    /// Writes `"key": value`, or `"key": null` when `value` is nil.
    public mutating func field(_ key: String, _ value: Bool?) {
        self.key(key)
        if let value { bool(value) } else { null() }
    }

    /// Writes `"key": value`, or `"key": null` when `value` is nil.
    public mutating func field(_ key: String, _ value: JSONValue?) {
        self.key(key)
        if let value { self.value(value) } else { null() }
    }

    /// Writes `"key": [strings…]`, or `"key": null` when `values` is nil.
    public mutating func field(_ key: String, strings values: [String]?) {
        self.key(key)
        guard let values else { return null() }
        beginArray()
        for value in values {
            string(value)
        }
        endArray()
    }

    /// Writes an object whose members `body` writes.
    public mutating func object<E: Error>(_ body: (inout JSONWriter) throws(E) -> Void) throws(E) {
        beginObject()
        try body(&self)
        endObject()
    }

    /// Writes an array whose elements `body` writes.
    public mutating func array<E: Error>(_ body: (inout JSONWriter) throws(E) -> Void) throws(E) {
        beginArray()
        try body(&self)
        endArray()
    }

    /// The JSON written so far as a `String`, for tests and logs.
    public var text: String {
        String(decoding: bytes, as: UTF8.self)
    }
}
