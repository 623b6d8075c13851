/// One of two sets of the table's sets and chains. Loading the whole table (at start, after a
/// repair) fills the generation that is not in use, element batch by element batch, while the
/// other goes on deciding packets; one small transaction then points the base chains at it and
/// deletes the old one. So no packet ever meets a missing or half-loaded table, and memory stays
/// bounded by a batch (one transaction of the whole table took 4 GiB and 80 s at 1,000,000 binds).
enum Generation: String, Sendable, CaseIterable {
    case a
    case b

    /// The generation a load fills while this one is in use.
    var other: Generation { self == .a ? .b : .a }

    /// `_a`, `_b`: the suffix of its sets' and chains' names.
    var suffix: String { "_" + rawValue }

    /// The name of a named counter that exists while this generation is the one in use.
    var marker: String { "in_use" + suffix }

    /// The set of `kind` in `group` (`bound4_a`, `peerw6_b`).
    func set(_ kind: SetKind, _ group: SetGroup) -> String { group.set(kind) + suffix }

    /// A chain of this generation (`in4_a`).
    func chain(_ name: String) -> String { name + suffix }
}
