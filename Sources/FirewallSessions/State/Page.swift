/// One page of a list and the cursor for the next one.
public struct Page<Item: Sendable>: Sendable {
    /// The items of this page.
    public var items: [Item]
    /// Opaque cursor for the next page; nil on the last page.
    public var nextCursor: String?

    /// Creates a page.
    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Which page a list request wants.
public struct PageRequest: Sendable, Equatable {
    /// The default page size.
    public static let defaultLimit = 100
    /// The allowed page sizes.
    public static let limits = 1...1000

    /// Position after which the page starts; nil for the first page.
    public var after: UInt64?
    /// Items per page, 1...1000.
    public var limit: Int

    /// Creates a request from already validated parts.
    public init(after: UInt64? = nil, limit: Int = PageRequest.defaultLimit) {
        self.after = after
        self.limit = limit
    }

    /// Parses the wire cursor: an opaque token this server produced.
    public static func parseCursor(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.count <= 20, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(text)
    }

    /// Renders a position as a wire cursor.
    public static func cursor(_ position: UInt64) -> String { String(position) }
}
