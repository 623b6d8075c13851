/// Object members in document order (keys unique: the parser rejects duplicates).
///
/// Members are an array rather than a dictionary because the writer must reproduce a fixed key order and request
/// objects are small enough that a linear lookup beats hashing. Equality is order-sensitive, matching what
/// `JSONWriter` would emit; JSON itself treats member order as insignificant.
///
/// Keys compare with Swift `String` equality, i.e. by Unicode canonical equivalence: `"é"` written precomposed and
/// decomposed are the same key, both for lookups and for the parser's duplicate check.
public struct JSONObject: Sendable, Equatable, Sequence {
    /// The members, in document order.
    ///
    /// Built by hand this may hold duplicate keys; lookups then find the first one.
    public var members: [(key: String, value: JSONValue)]

    /// Creates an object with the given members, kept in the given order.
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// The value of the first member named `key`, or nil if there is none (a JSON `null` is `.null`, not nil).
    public subscript(key: String) -> JSONValue? {
        for member in members where member.key == key {
            return member.value
        }
        return nil
    }

    /// The number of members.
    public var count: Int {
        members.count
    }

    /// Whether the object has no members.
    public var isEmpty: Bool {
        members.isEmpty
    }

    /// The member keys, in document order.
    public var keys: [String] {
        members.map(\.key)
    }

    /// Iterates the members in document order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    /// Whether both objects have the same members in the same order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for (left, right) in zip(lhs.members, rhs.members) where left.key != right.key || left.value != right.value {
            return false
        }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Creates an object with the members in the order written.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}
