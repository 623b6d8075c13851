/// A client's bind on the gateway's external address (the remote bind, an IFWXConnection).
public struct Bind: Sendable, Equatable {
    // Stored properties are ordered for a tight layout (the one-byte enums fill the space after the
    // address, the optionals come last): a million binds are kept in memory, so bytes count.

    /// Server-generated id.
    public var id: BindID
    /// The owning session.
    public var sessionID: String
    /// External address and port; the address may be the wildcard.
    public var address: SocketAddress
    /// TCP or UDP.
    public var transport: TransportProtocol
    /// Pending, allowed or terminating.
    public var state: BindState
    /// When the bind was created.
    public var createdAt: Timestamp
    /// When the bind last became pending (created, or revoked by a policy change); expiry counts from here.
    public var pendingSince: Timestamp
    /// Decisions that accepted traffic to or from this bind.
    public var acceptedCount: UInt64
    /// Decisions that discarded traffic to or from this bind.
    public var discardedCount: UInt64
    /// When it started terminating; the grace period counts from here.
    public var terminatingAt: Timestamp?
    /// What RetroactiveAllowBind granted; nil unless allowed.
    public var grant: BindGrant?

    /// Creates a bind.
    public init(
        id: BindID, sessionID: String, transport: TransportProtocol, address: SocketAddress,
        state: BindState = .pending, grant: BindGrant? = nil, createdAt: Timestamp, pendingSince: Timestamp? = nil,
        terminatingAt: Timestamp? = nil, acceptedCount: UInt64 = 0, discardedCount: UInt64 = 0
    ) {
        self.id = id
        self.sessionID = sessionID
        self.transport = transport
        self.address = address
        self.state = state
        self.grant = grant
        self.createdAt = createdAt
        self.pendingSince = pendingSince ?? createdAt
        self.terminatingAt = terminatingAt
        self.acceptedCount = acceptedCount
        self.discardedCount = discardedCount
    }

    /// When the approval ends unless it is renewed (or, with an idle timeout, traffic keeps it
    /// alive): nil for a pending or terminating bind and for an approval without an end.
    public var expiresAt: Timestamp? { state == .allowed ? grant?.expiresAt : nil }

    /// The receive buffer in bytes when `increase-receive-buffer` was granted, else nil.
    public var receiveBufferBytes: Int? {
        guard let grant, grant.flags.contains(.increaseReceiveBuffer) else { return nil }
        return BindFlags.increasedReceiveBufferBytes
    }
}

/// The life of a bind. A policy change can send `allowed` back to `pending`.
public enum BindState: String, Sendable, Hashable, CaseIterable {
    /// Traffic to it is discarded until RetroactiveAllowBind approves it.
    case pending
    /// Traffic from permitted peers is accepted.
    case allowed
    /// Closed or its session ended; purged after the grace period.
    case terminating
}

/// What an allowed bind was granted.
public struct BindGrant: Sendable, Equatable {
    /// The protocol the bind is part of (RetroactiveAllowBind's protocolGuid).
    public var protocolGUID: ProtocolGUID
    /// When the bind became allowed.
    public var allowedAt: Timestamp
    /// The permitted peers; nil means every peer.
    public var ipFilter: BindIPFilter?
    /// dwFlags.
    public var flags: BindFlags
    /// When the approval ends whatever the traffic (RetroactiveAllowBind's `lifetimeSeconds`, within
    /// the configured limits); nil: it lasts until the bind is closed.
    public var endsAt: Timestamp?
    /// The approval ends after this many seconds without accepted traffic; nil: never.
    public var idleTimeoutSeconds: Double?
    /// When traffic to or from the bind was last accepted, or the approval was given or renewed.
    public var lastActiveAt: Timestamp

    /// Creates a grant; `lastActiveAt` defaults to `allowedAt`.
    public init(
        protocolGUID: ProtocolGUID, flags: BindFlags, ipFilter: BindIPFilter?, allowedAt: Timestamp, endsAt: Timestamp? = nil,
        idleTimeoutSeconds: Double? = nil, lastActiveAt: Timestamp? = nil
    ) {
        self.protocolGUID = protocolGUID
        self.flags = flags
        self.ipFilter = ipFilter
        self.allowedAt = allowedAt
        self.endsAt = endsAt
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.lastActiveAt = lastActiveAt ?? allowedAt
    }

    /// The earlier of the approval's end and its idle deadline; nil when it has neither.
    public var expiresAt: Timestamp? {
        let idleDeadline = idleTimeoutSeconds.map { lastActiveAt.adding($0) }
        switch (endsAt, idleDeadline) {
        case (let end?, let idle?): return min(end, idle)
        case (let end?, nil): return end
        case (nil, let idle?): return idle
        case (nil, nil): return nil
        }
    }
}
