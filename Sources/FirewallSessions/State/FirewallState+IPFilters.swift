/// One IFWXIpFilter modification.
public enum IPFilterOperation: Sendable, Equatable {
    /// IncludeRange.
    case includeRange(IPRange)
    /// ExcludeRange.
    case excludeRange(IPRange)
    /// IncludeFilter: adds another stored filter's current addresses.
    case includeFilter(id: String)
    /// ExcludeFilter: removes another stored filter's current addresses.
    case excludeFilter(id: String)
}

extension FirewallState {
    /// One stored filter.
    public func ipFilter(_ id: String) -> StoredIPFilter? { filters[id] }

    /// A page of stored filters in creation order.
    public func listIPFilters(page: PageRequest) -> Page<StoredIPFilter> {
        let found = filterOrder.page(after: page.after, limit: page.limit) { _ in true }
        return Page(items: found.keys.compactMap { filters[$0] }, nextCursor: found.next.map(PageRequest.cursor))
    }

    /// Builds a filter from the empty set: the includes, then the excludes.
    public mutating func createIPFilter(include: [IPRange], exclude: [IPRange], now: Timestamp, changes: inout ChangeSet)
        throws(FirewallError) -> StoredIPFilter
    {
        guard include.count + exclude.count <= settings.maxRangesPerFilter else {
            throw .invalid("include", "must have at most \(settings.maxRangesPerFilter) ranges")
        }
        guard filters.count < settings.maxIPFilters else {
            throw FirewallError(.FWX_E_IS_BUSY, "the limit of \(settings.maxIPFilters) IP filters is reached",
                                retryAfterSeconds: settings.quotaRetryAfterSeconds)
        }
        let ranges = try Self.buildRanges(include: include, exclude: exclude, limit: settings.maxRangesPerFilter, field: "include")
        let sequence = nextSequence()
        let filter = StoredIPFilter(id: "f-\(sequence)", ranges: ranges, createdAt: now, updatedAt: now, sequence: sequence)
        filters[filter.id] = filter
        filterOrder.append(filter.id, sequence: sequence)
        changes.changes.append(.filterSaved(filter))
        changes.changes.append(.metadataSaved(metadata))
        return filter
    }

    /// Applies one operation to a stored filter; binds that reference it see the change at once.
    public mutating func modifyIPFilter(_ id: String, _ operation: IPFilterOperation, now: Timestamp, changes: inout ChangeSet)
        throws(FirewallError) -> StoredIPFilter
    {
        guard var filter = filters[id] else { throw .notFound("IP filter", id) }
        switch operation {
        case .includeRange(let range): filter.ranges.include(range)
        case .excludeRange(let range): filter.ranges.exclude(range)
        case .includeFilter(let otherID):
            guard let other = filters[otherID] else { throw Self.missingOperand(otherID) }
            filter.ranges.include(other.ranges)
        case .excludeFilter(let otherID):
            guard let other = filters[otherID] else { throw Self.missingOperand(otherID) }
            filter.ranges.exclude(other.ranges)
        }
        guard filter.ranges.ranges.count <= settings.maxRangesPerFilter else {
            throw .invalid("", "would make the filter hold more than \(settings.maxRangesPerFilter) ranges")
        }
        filter.updatedAt = now
        filters[id] = filter
        changes.changes.append(.filterSaved(filter))
        return filter
    }

    /// IsIncluded.
    public func ipFilterContains(_ id: String, _ address: IPAddress) throws(FirewallError) -> Bool {
        guard let filter = filters[id] else { throw .notFound("IP filter", id) }
        return filter.ranges.contains(address)
    }

    /// Clone: a new stored filter with the same addresses.
    public mutating func cloneIPFilter(_ id: String, now: Timestamp, changes: inout ChangeSet) throws(FirewallError)
        -> StoredIPFilter
    {
        guard let source = filters[id] else { throw .notFound("IP filter", id) }
        return try createIPFilter(include: source.ranges.ranges, exclude: [], now: now, changes: &changes)
    }

    /// Compare, and how the two sets relate.
    public func compareIPFilters(_ id: String, _ otherID: String) throws(FirewallError) -> IPRangeSetRelation {
        guard let filter = filters[id] else { throw .notFound("IP filter", id) }
        guard let other = filters[otherID] else {
            throw FirewallError(.ERROR_NOT_FOUND, "no IP filter with id '\(otherID)'",
                                fieldErrors: [FieldError(field: "other", reason: "names no IP filter")])
        }
        return filter.ranges.relation(to: other.ranges)
    }

    /// Deletes a stored filter no allowed bind references (else ERROR_BUSY).
    public mutating func deleteIPFilter(_ id: String, changes: inout ChangeSet) throws(FirewallError) {
        guard let filter = filters[id] else { throw .notFound("IP filter", id) }
        if let count = filterReferences[id], count > 0 {
            throw FirewallError(.ERROR_BUSY, "IP filter '\(id)' is referenced by \(count) allowed bind(s)")
        }
        filters[id] = nil
        filterOrder.remove(sequence: filter.sequence)
        changes.changes.append(.filterRemoved(id: id))
    }

    /// A filter's ranges built from the empty set: includes, then excludes; at most `limit`
    /// ranges, else E_INVALIDARG naming `field` (the body's `include`).
    static func buildRanges(include: [IPRange], exclude: [IPRange], limit: Int, field: String) throws(FirewallError) -> IPRangeSet {
        var ranges = IPRangeSet(ranges: include)
        for range in exclude { ranges.exclude(range) }
        guard ranges.ranges.count <= limit else {
            throw .invalid(field, "would make the filter hold more than \(limit) ranges")
        }
        return ranges
    }

    private static func missingOperand(_ id: String) -> FirewallError {
        FirewallError(.ERROR_NOT_FOUND, "no IP filter with id '\(id)'",
                      fieldErrors: [FieldError(field: "filterId", reason: "names no IP filter")])
    }
}
