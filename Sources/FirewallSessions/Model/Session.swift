/// One firewall client's session (IFWXSession).
public struct Session: Sendable, Equatable {
    /// Opaque id, client-chosen (`[A-Za-z0-9._-]{1,64}`) or generated.
    public var id: String
    /// The client's address.
    public var clientAddress: IPAddress
    /// How the client reaches the gateway.
    public var clientType: ClientType
    /// Only firewall clients send one.
    public var clientMachineName: String?
    /// Nil for an unauthenticated session.
    public var user: SessionUser?
    /// Active or terminating.
    public var state: SessionState
    /// When the session was created.
    public var createdAt: Timestamp
    /// When it started terminating; the grace period counts from here.
    public var terminatingAt: Timestamp?
    /// Creation order, for stable pagination.
    public var sequence: UInt64
    /// Ids of the session's binds, ascending (bind ids grow with creation).
    public var bindIDs: [BindID]
    /// How many of those binds are pending, for the per-session quota.
    public var pendingBindCount: Int
    /// When the session ends for lack of activity (`timers.sessionIdleTimeoutSeconds`); moved on by
    /// every change to it and, when the time comes, by traffic its binds accepted. Nil: never.
    public var expiresAt: Timestamp?

    /// Creates a session.
    public init(
        id: String, clientAddress: IPAddress, clientType: ClientType, clientMachineName: String?,
        user: SessionUser?, state: SessionState = .active, createdAt: Timestamp, terminatingAt: Timestamp? = nil,
        sequence: UInt64, bindIDs: [BindID] = [], pendingBindCount: Int = 0, expiresAt: Timestamp? = nil
    ) {
        self.id = id
        self.clientAddress = clientAddress
        self.clientType = clientType
        self.clientMachineName = clientMachineName
        self.user = user
        self.state = state
        self.createdAt = createdAt
        self.terminatingAt = terminatingAt
        self.sequence = sequence
        self.bindIDs = bindIDs
        self.pendingBindCount = pendingBindCount
        self.expiresAt = expiresAt
    }

    /// Whether a session id has the allowed shape: `[A-Za-z0-9._-]{1,64}`.
    public static func isValidID(_ id: String) -> Bool {
        let bytes = id.utf8
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }
}

/// The life of a session.
public enum SessionState: String, Sendable, Hashable, CaseIterable {
    case active
    case terminating
}
