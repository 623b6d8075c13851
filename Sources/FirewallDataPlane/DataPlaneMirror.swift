import FirewallSessions

/// What the kernel's table holds, as fwsessiond put it there: every bind's wanted state and the
/// ranges of the stored filters binds follow. Transactions are computed against it, never by
/// reading the kernel back.
struct DataPlaneMirror: Sendable {
    var binds: [BindID: TableBind]
    var filters: [String: IPRangeSet]
    /// The binds following each stored filter (a change to the filter changes their elements).
    private(set) var followers: [String: Set<BindID>] = [:]

    init(binds: [BindID: TableBind], filters: [String: IPRangeSet]) {
        self.binds = binds
        self.filters = filters
        for (id, bind) in binds {
            if let filter = bind.storedFilterID { followers[filter, default: []].insert(id) }
        }
    }

    /// The whole wanted state with `delta` applied, for a full load.
    func applying(_ delta: DataPlaneDelta) -> (binds: [BindID: TableBind], filters: [String: IPRangeSet]) {
        var copy = self
        copy.commit(delta)
        return (copy.binds, copy.filters)
    }

    /// Records that the kernel now holds `delta`.
    mutating func commit(_ delta: DataPlaneDelta) {
        for (id, filter) in delta.filters {
            filters[id] = filter
        }
        for (id, bind) in delta.binds {
            if let old = binds[id], let filter = old.storedFilterID {
                followers[filter]?.remove(id)
                if followers[filter]?.isEmpty == true { followers[filter] = nil }
            }
            binds[id] = bind
            if let filter = bind?.storedFilterID { followers[filter, default: []].insert(id) }
        }
    }
}

/// One batch of changes as the data plane sees it: binds saved or removed, stored filters
/// changed. Counter flushes and policy records do not concern the kernel.
struct DataPlaneDelta: Sendable {
    /// New wanted state per bind; nil: removed.
    private(set) var binds: [BindID: TableBind?] = [:]
    /// New ranges per stored filter; nil: removed.
    private(set) var filters: [String: IPRangeSet?] = [:]
    /// Binds whose elements may change: saved or removed, or following a changed filter.
    private(set) var touched: Set<BindID> = []
    /// Binds that stopped being allowed and bidirectional somewhere in the batch: the peers the
    /// kernel remembered for them must be forgotten (a revoked bind starts over, as `/decisions` do).
    private(set) var forgetRecentPeers: Set<BindKey> = []

    init(_ changes: [StateChange], mirror: DataPlaneMirror) {
        var replying: [BindID: Bool] = [:]
        func replies(_ id: BindID) -> Bool { replying[id] ?? mirror.binds[id]?.bidirectional ?? false }
        // Changes the store already held (adopted binds) are the kernel's like any other.
        // and binds handed over to another node leave the kernel like removed ones.
        let flattened = changes.flatMap { change -> [StateChange] in
            switch change {
            case .alreadyStored(let stored): stored
            case .bindsHandedOver(let ids): ids.map { .bindRemoved($0) }
            default: [change]
            }
        }
        for change in flattened {
            switch change {
            case .bindSaved(let bind):
                var wanted = TableBind(bind)
                if replies(bind.id) && !wanted.bidirectional { forgetRecentPeers.insert(wanted.key) }
                replying[bind.id] = wanted.bidirectional
                // The data plane's own counter readings are newer than the state's copy.
                if let known = mirror.binds[bind.id], known.key == wanted.key {
                    wanted.accepted = max(wanted.accepted, known.accepted)
                    wanted.discarded = max(wanted.discarded, known.discarded)
                }
                binds[bind.id] = wanted
                touched.insert(bind.id)
            case .bindRemoved(let id):
                if replies(id), let key = mirror.binds[id]?.key ?? binds[id]??.key { forgetRecentPeers.insert(key) }
                replying[id] = false
                binds[id] = .some(nil)
                touched.insert(id)
            case .filterSaved(let filter):
                filters[filter.id] = filter.ranges
                touched.formUnion(mirror.followers[filter.id] ?? [])
            case .filterRemoved(let id):
                filters[id] = .some(nil)
                touched.formUnion(mirror.followers[id] ?? [])
            case .sessionSaved, .sessionRemoved, .bindCounters, .protocolSaved, .protocolRemoved, .rulesReplaced,
                .metadataSaved, .alreadyStored, .bindsHandedOver, .auditRecorded:
                continue
            }
        }
    }

    /// Nothing for the kernel.
    var isEmpty: Bool { touched.isEmpty && filters.isEmpty }

    /// The transaction that takes the kernel from `mirror` to `mirror` + this delta: the elements
    /// to delete (applied first: a key may move from a removed bind to a new one in the same batch)
    /// and those to add, the counted ones of a bind new to the kernel starting from its counters.
    func operations(mirror: DataPlaneMirror) -> (deletions: [ElementOperation], additions: [ElementOperation]) {
        var newFilters = mirror.filters
        for (id, ranges) in filters { newFilters[id] = ranges }
        var deletions: [ElementOperation] = []
        var additions: [ElementOperation] = []
        for id in touched {
            let old = mirror.binds[id]
            let before = Set(old?.elements(storedFilters: mirror.filters) ?? [])
            let wanted: TableBind? = binds[id] ?? old
            let after = Set(wanted?.elements(storedFilters: newFilters) ?? [])
            for element in before.subtracting(after) { deletions.append(ElementOperation(element)) }
            for element in after.subtracting(before) {
                var operation = ElementOperation(element)
                if let wanted { operation.packets = wanted.startingPackets(for: element.kind) }
                additions.append(operation)
            }
        }
        // Grouped by set, so each kernel message carries many elements of one set.
        deletions.sort { $0.element.setOrder < $1.element.setOrder }
        additions.sort { $0.element.setOrder < $1.element.setOrder }
        return (deletions, additions)
    }
}

/// One element to delete or add, and where an added counted element's counter starts.
struct ElementOperation: Sendable {
    var element: TableElement
    var packets: UInt64 = 0

    init(_ element: TableElement) { self.element = element }
}
