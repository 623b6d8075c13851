/// A named IP filter (IFWXIpFilter) that binds can reference.
public struct StoredIPFilter: Sendable, Equatable {
    /// Server-generated id, `f-<number>`.
    public var id: String
    /// The addresses it includes.
    public var ranges: IPRangeSet
    /// When it was created.
    public var createdAt: Timestamp
    /// When its ranges last changed.
    public var updatedAt: Timestamp
    /// Creation order, for stable pagination.
    public var sequence: UInt64

    /// Creates a filter.
    public init(id: String, ranges: IPRangeSet, createdAt: Timestamp, updatedAt: Timestamp, sequence: UInt64) {
        self.id = id
        self.ranges = ranges
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sequence = sequence
    }
}
