/// The policy every node of an array shares, as PostgreSQL holds it: access rules, user-defined
/// protocol definitions, stored IP filters, the policy version (the ETag) and the revision that
/// every shared change moves (IP filter changes move it without changing the version).
public struct SharedPolicy: Sendable, Equatable {
    /// User rules in evaluation order.
    public var rules: [AccessRule]
    /// User-defined protocol definitions (the built-ins are in every build).
    public var protocols: [ProtocolDefinition]
    /// Stored IP filters.
    public var filters: [StoredIPFilter]
    /// The policy version (`ETag`): moved by changes to rules and protocols.
    public var version: Int64
    /// Moved by every change to shared policy, filters included; nodes compare it to catch up.
    public var revision: Int64

    /// Creates a policy.
    public init(rules: [AccessRule], protocols: [ProtocolDefinition], filters: [StoredIPFilter], version: Int64, revision: Int64) {
        self.rules = rules
        self.protocols = protocols
        self.filters = filters
        self.version = version
        self.revision = revision
    }
}

/// Sessions and binds of one shard (one node's owned state) as read from the array's store: a full
/// load, the changes since a revision, or what an adoption took over.
public struct ShardRows: Sendable {
    /// Sessions written (whole rows).
    public var sessions: [Session] = []
    /// Binds written (whole rows), in id order.
    public var binds: [Bind] = []
    /// Sessions removed since the revision asked for.
    public var removedSessions: [String] = []
    /// Binds removed since the revision asked for.
    public var removedBinds: [BindID] = []

    /// Empty rows.
    public init() {}

    /// Whether nothing is in it.
    public var isEmpty: Bool { sessions.isEmpty && binds.isEmpty && removedSessions.isEmpty && removedBinds.isEmpty }
}

/// Ranges of ids handed to this node by the array (`[start, end)`), so `s-N`, `b-N`, `r-N` and
/// `f-N` stay unique across nodes and are never reused.
public struct SequenceBlocks: Sendable, Equatable {
    /// The next id of the current block.
    var next: UInt64
    /// One past the current block's last id.
    var end: UInt64
    /// Blocks handed out ahead, used in order.
    var spare: [Range<UInt64>]

    /// Starts from one block.
    public init(_ block: Range<UInt64>) {
        next = block.lowerBound
        end = block.upperBound
        spare = []
    }

    /// Ids left before a new block is needed.
    public var remaining: Int { Int(end - min(next, end)) + spare.reduce(0) { $0 + $1.count } }
}

/// One member of an array as this node last saw it: the shard it writes (named after the node),
/// who holds that shard now, where it answers, and whether its lease is current.
public struct ArrayMember: Sendable, Equatable {
    /// The shard, named after the node that created it.
    public var shard: String
    /// The node holding the shard now, nil once another node adopted its state.
    public var holder: String?
    /// Where the holder answers (`--advertise-url`), for redirects.
    public var advertiseURL: String
    /// Whether its lease is current (a node past its lease is about to be adopted).
    public var live: Bool
    /// The node that adopted this shard's state, if one did.
    public var adoptedBy: String?

    /// Creates a member.
    public init(shard: String, holder: String?, advertiseURL: String, live: Bool, adoptedBy: String?) {
        self.shard = shard
        self.holder = holder
        self.advertiseURL = advertiseURL
        self.live = live
        self.adoptedBy = adoptedBy
    }
}

/// A change of shared policy a node computed, ready for the array: the policy before (what the
/// array holds now) and after.
public struct PolicyProposal: Sendable {
    /// The policy the change was computed on.
    public var before: SharedPolicy
    /// The policy after the change.
    public var after: SharedPolicy
    /// The change's audit record, written in the array's policy transaction.
    public var audit: AuditRecord?

    /// Creates a proposal.
    public init(before: SharedPolicy, after: SharedPolicy, audit: AuditRecord? = nil) {
        self.before = before
        self.after = after
        self.audit = audit
    }
}

/// The node that holds an object another node was asked to change: the API answers with a
/// redirect (`307`, `Location` under the holder's advertised URL).
public struct HolderLocation: Sendable, Equatable {
    /// The holder's node id.
    public var node: String
    /// Its advertised base URL.
    public var baseURL: String

    /// Creates a location.
    public init(node: String, baseURL: String) {
        self.node = node
        self.baseURL = baseURL
    }
}
