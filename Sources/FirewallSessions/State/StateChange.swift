/// One durable change to the state, as the persistence layer writes it.
///
/// Each is idempotent (an upsert or a delete by key), so a batch that failed to commit can be
/// written again as a whole.
public enum StateChange: Sendable {
    case sessionSaved(Session)
    case sessionRemoved(id: String)
    case bindSaved(Bind)
    case bindRemoved(BindID)
    case bindCounters([BindCounters])
    case filterSaved(StoredIPFilter)
    case filterRemoved(id: String)
    case protocolSaved(ProtocolDefinition)
    case protocolRemoved(ProtocolGUID)
    /// The whole ordered list of user rules (the default rule is implicit): rules are few and a
    /// move renumbers many positions, so they are written as one list.
    case rulesReplaced([AccessRule])
    case metadataSaved(StateMetadata)
    /// Changes the durable store already holds, because another transaction wrote them (an array
    /// node's adoption moved these sessions and binds under its shard): the store skips them,
    /// the sinks after it (the kernel) apply them like any other.
    case alreadyStored([StateChange])
    /// Binds another node holds now (an array node was fenced: its state was adopted): the sinks
    /// after the store (the kernel) drop them like removed binds; the store writes nothing (the
    /// rows are the adopter's).
    case bindsHandedOver([BindID])
    /// The audit record of the change it travels with (`AuditRecord`): the store writes it in the
    /// same transaction; the sinks after the store ignore it.
    case auditRecorded(AuditRecord)
}

/// Approximate traffic counters of one bind, flushed now and then rather than on every decision.
public struct BindCounters: Sendable, Equatable {
    /// The bind.
    public var bindID: BindID
    /// Accepted decisions.
    public var accepted: UInt64
    /// Discarded decisions.
    public var discarded: UInt64
    /// When the bind last accepted traffic (for its idle timeout); nil: unknown or unchanged.
    public var lastActiveAt: Timestamp?

    /// Creates a counter snapshot.
    public init(bindID: BindID, accepted: UInt64, discarded: UInt64, lastActiveAt: Timestamp? = nil) {
        self.bindID = bindID
        self.accepted = accepted
        self.discarded = discarded
        self.lastActiveAt = lastActiveAt
    }
}

/// Counters that must survive a restart so ids are never reused.
public struct StateMetadata: Sendable, Equatable {
    /// Raised by every change to rules or protocols.
    public var policyVersion: Int64
    /// The last number used for generated ids and creation sequences.
    public var lastSequence: UInt64

    /// Creates metadata.
    public init(policyVersion: Int64 = 1, lastSequence: UInt64 = 0) {
        self.policyVersion = policyVersion
        self.lastSequence = lastSequence
    }
}

/// Something that happened, for the event stream.
public struct DomainEvent: Sendable, Equatable {
    /// The event name on the wire.
    public enum Kind: String, Sendable, CaseIterable {
        case sessionCreated = "session.created"
        case sessionTerminating = "session.terminating"
        /// A session ended for lack of activity (instead of `session.terminating`).
        case sessionExpired = "session.expired"
        case sessionRemoved = "session.removed"
        case bindCreated = "bind.created"
        case bindAllowed = "bind.allowed"
        case bindRevoked = "bind.revoked"
        case bindExpired = "bind.expired"
        case bindTerminating = "bind.terminating"
        case bindRemoved = "bind.removed"
        case policyChanged = "policy.changed"
    }

    /// What kind of event.
    public var kind: Kind
    /// The session it concerns, if any.
    public var sessionID: String?
    /// The bind as it is after the event, for bind events.
    public var bind: Bind?
    /// The session as it is after the event, for session events.
    public var session: Session?
    /// The policy version, for policy events.
    public var policyVersion: Int64?

    /// Creates an event.
    public init(
        kind: Kind, sessionID: String? = nil, bind: Bind? = nil, session: Session? = nil, policyVersion: Int64? = nil
    ) {
        self.kind = kind
        self.sessionID = sessionID
        self.bind = bind
        self.session = session
        self.policyVersion = policyVersion
    }
}

/// What one operation changed: the records to persist and the events to publish.
public struct ChangeSet: Sendable {
    /// Records for the durable store, in order.
    public var changes: [StateChange] = []
    /// Events for subscribers, in order.
    public var events: [DomainEvent] = []

    /// An empty change set.
    public init() {}

    /// Whether nothing changed.
    public var isEmpty: Bool { changes.isEmpty && events.isEmpty }
}
