import FirewallSessions

/// What the kernel must do for one bind, derived from its state and grant: the data plane's
/// copy of the part of a `Bind` that decides packets.
struct TableBind: Sendable, Equatable {
    /// Which peers an allowed bind accepts.
    enum Peers: Sendable, Equatable {
        /// Every peer (no IP filter).
        case everyone
        /// The ranges of an inline filter (a snapshot).
        case ranges(IPRangeSet)
        /// The ranges of a stored filter, as that filter is now.
        case stored(id: String)
    }

    var key: BindKey
    /// Nil while pending or terminating: every packet is discarded.
    var accepts: Peers?
    /// Allowed with `bidirectional` (UDP): replies may go to peers that recently sent.
    var bidirectional: Bool
    /// The counters the bind had when last read: where a full load of the table starts them.
    var accepted: UInt64
    var discarded: UInt64

    init(_ bind: Bind) {
        key = BindKey(bind)
        if bind.state == .allowed, let grant = bind.grant {
            switch grant.ipFilter {
            case nil: accepts = .everyone
            case .inline(let ranges): accepts = .ranges(ranges)
            case .stored(let id): accepts = .stored(id: id)
            }
            bidirectional = grant.flags.contains(.bidirectional) && bind.transport == .udp
        } else {
            accepts = nil
            bidirectional = false
        }
        accepted = bind.acceptedCount
        discarded = bind.discardedCount
    }

    /// Where the counter of its element in a counted set starts: `bound` counts every packet,
    /// `drop` the discarded ones (accepted = bound - drop).
    func startingPackets(for kind: SetKind) -> UInt64 {
        switch kind {
        case .bound: accepted &+ discarded
        case .drop: discarded
        default: 0
        }
    }

    /// The stored filter it follows, if any.
    var storedFilterID: String? {
        if case .stored(let id) = accepts { return id }
        return nil
    }

    /// The elements the kernel's sets hold for this bind. `storedFilters` gives the ranges of
    /// stored filters (a missing one accepts nobody, like an empty filter).
    func elements(storedFilters: [String: IPRangeSet]) -> [TableElement] {
        let group = key.group
        let bytes = key.bytes
        var elements = [TableElement(.bound, group, bytes), TableElement(.drop, group, bytes)]
        guard let accepts else { return elements }
        if bidirectional { elements.append(TableElement(.bidir, group, bytes)) }
        let ranges: IPRangeSet
        switch accepts {
        case .everyone:
            elements.append(TableElement(.open, group, bytes))
            return elements
        case .ranges(let inline):
            ranges = inline
        case .stored(let id):
            ranges = storedFilters[id] ?? IPRangeSet()
        }
        // A peer of the other family can never reach this bind's socket.
        for range in ranges.ranges where range.family == group.family {
            if range.lower == range.upper {
                elements.append(TableElement(.peer, group, bytes + range.lower.networkBytes))
            } else {
                elements.append(TableElement(.range, group, bytes + range.lower.networkBytes, keyEnd: bytes + range.upper.networkBytes))
            }
        }
        return elements
    }
}

/// One element of one of the table's sets: its netlink key (and the key of its last value, for a
/// range). Only bytes are built on the way to the kernel; `text` is for people.
struct TableElement: Hashable, Sendable {
    var kind: SetKind
    var group: SetGroup
    var key: [UInt8]
    var keyEnd: [UInt8]?

    init(_ kind: SetKind, _ group: SetGroup, _ key: [UInt8], keyEnd: [UInt8]? = nil) {
        self.kind = kind
        self.group = group
        self.key = key
        self.keyEnd = keyEnd
    }

    /// As nft writes it: `203.0.113.10 . 6 . 5000 . 198.51.100.7`, a range as `a-b` in its last field.
    var text: String {
        var reader = KeyText(key, group: group)
        var fields = reader.bindFields()
        if kind == .peer || kind == .range {
            let peer = reader.address()
            if let keyEnd {
                var end = KeyText(keyEnd, group: group)
                _ = end.bindFields()
                fields.append("\(peer)-\(end.address())")
            } else {
                fields.append(peer)
            }
        }
        return fields.joined(separator: " . ")
    }

    /// The set's name in `generation`.
    func set(in generation: Generation) -> String { generation.set(kind, group) }

    /// An order that groups elements by set.
    var setOrder: String { group.set(kind) }

}
