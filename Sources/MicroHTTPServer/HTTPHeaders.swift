/// HTTP header fields in the order they were sent or added; names compare case-insensitively.
///
/// Repeated names are kept as separate fields, so nothing a client sent is lost; the subscript
/// answers the first one.
public struct HTTPHeaders: Sendable, Sequence {
    /// One header field.
    public typealias Field = (name: String, value: String)

    private var fields: [Field]

    /// Creates headers holding `fields` in the given order.
    public init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    /// The value of the first field named `name` (compared ignoring ASCII case), or nil.
    public subscript(name: String) -> String? {
        for field in fields where Self.namesMatch(field.name, name) {
            return field.value
        }
        return nil
    }

    /// Appends a field, keeping any earlier field of the same name.
    public mutating func add(name: String, value: String) {
        fields.append((name: name, value: value))
    }

    /// The number of fields, counting repeated names separately.
    public var count: Int { fields.count }

    /// The size of the fields as sent: each name and value with `": "` and CRLF.
    public var byteCount: Int { fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 } }

    /// Makes room for `capacity` fields, so collecting a request's headers reallocates at most once.
    mutating func reserveCapacity(_ capacity: Int) {
        fields.reserveCapacity(capacity)
    }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    /// Header names are ASCII tokens (RFC 9110 5.1), so ASCII case folding is the whole rule;
    /// comparing byte by byte avoids allocating lowercased copies on every lookup.
    static func namesMatch(_ lhs: String, _ rhs: String) -> Bool {
        var left = lhs.utf8.makeIterator()
        var right = rhs.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil):
                return true
            case let (l?, r?) where l == r || asciiLowercased(l) == asciiLowercased(r):
                continue
            default:
                return false
            }
        }
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte | 0x20 : byte
    }
}
