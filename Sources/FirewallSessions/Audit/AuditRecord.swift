/// Who asks for a change: the token's name (never the token) and the request's id. The API
/// passes it down with every write so the change's audit record can be made where the change is,
/// under the state's actor, and written in the same transaction.
public struct AuditContext: Sendable, Equatable {
    /// The bearer token's configured name (or `anonymous-loopback`).
    public var token: String
    /// The request's id (`X-Request-Id`), shared with its access and audit log lines.
    public var requestID: String

    /// Creates a context.
    public init(token: String, requestID: String) {
        self.token = token
        self.requestID = requestID
    }
}

/// What a change did, as its audit record describes it: filled in from the operation's result.
public struct AuditSubject: Sendable, Equatable {
    /// The session concerned, if any.
    public var sessionID: String?
    /// The bind concerned, if any.
    public var bindID: BindID?
    /// The outcome (S_OK for every recorded change but a few).
    public var hresult: HResult
    /// A few facts worth keeping (policy version, flags, filter id...), in order.
    public var details: [AuditDetail]

    /// Creates a subject.
    public init(sessionID: String? = nil, bindID: BindID? = nil, hresult: HResult = .S_OK, details: [AuditDetail] = []) {
        self.sessionID = sessionID
        self.bindID = bindID
        self.hresult = hresult
        self.details = details
    }
}

/// One entry of an audit record's `details` object.
public struct AuditDetail: Sendable, Equatable {
    /// A JSON value of the few kinds details use.
    public enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case strings([String])
    }

    /// The key.
    public var key: String
    /// The value.
    public var value: Value

    /// Creates a detail.
    public init(_ key: String, _ value: Value) {
        self.key = key
        self.value = value
    }
}

/// A durable record of one change: who made it, what, to which object, with which outcome.
///
/// Made under the state's actor together with the change and appended to the same `ChangeSet`
/// (`StateChange.auditRecorded`), so the store writes both in one transaction: there is never a
/// record of a change that was not made, nor a change without its record.
public struct AuditRecord: Sendable, Equatable {
    /// The store's sequence number (0 until stored); the cursor of `GET /audit`.
    public var id: UInt64
    /// A random key that makes writing the record twice harmless (a batch whose COMMIT's outcome
    /// was unknown is written again).
    public var key: UInt64
    /// When the change was made.
    public var time: Timestamp
    /// What was done, e.g. `retroactive-allow-bind`, `rule.create`, `session.create`.
    public var action: String
    /// The token's name.
    public var token: String
    /// The request's id.
    public var requestID: String
    /// The session concerned, if any.
    public var sessionID: String?
    /// The bind concerned, if any.
    public var bindID: BindID?
    /// The outcome's HRESULT name (e.g. `S_OK`).
    public var hresult: String
    /// A small JSON object of details.
    public var details: [AuditDetail]
    /// In an array, the node that made the change (nil for a single node).
    public var node: String?

    /// Creates a record.
    public init(
        id: UInt64 = 0, key: UInt64, time: Timestamp, action: String, token: String, requestID: String,
        sessionID: String? = nil, bindID: BindID? = nil, hresult: String, details: [AuditDetail] = [], node: String? = nil
    ) {
        self.id = id
        self.key = key
        self.time = time
        self.action = action
        self.token = token
        self.requestID = requestID
        self.sessionID = sessionID
        self.bindID = bindID
        self.hresult = hresult
        self.details = details
        self.node = node
    }

    /// A record of `action` by `context`, described by `subject`.
    public init(key: UInt64, time: Timestamp, action: String, by context: AuditContext, _ subject: AuditSubject) {
        self.init(
            key: key, time: time, action: action, token: context.token, requestID: context.requestID,
            sessionID: subject.sessionID, bindID: subject.bindID, hresult: subject.hresult.name, details: subject.details)
    }
}

/// Which records `GET /audit` asks for: every filter is optional; records come oldest first
/// (by sequence), a page at a time.
public struct AuditQuery: Sendable, Equatable {
    /// Records made at or after this time.
    public var since: Timestamp?
    /// Records made before this time.
    public var until: Timestamp?
    /// Only this action.
    public var action: String?
    /// Only this token's name.
    public var token: String?
    /// Only this session.
    public var sessionID: String?
    /// Only this bind.
    public var bindID: BindID?
    /// Only this outcome (HRESULT name).
    public var hresult: String?
    /// The page.
    public var page: PageRequest

    /// Creates a query.
    public init(
        since: Timestamp? = nil, until: Timestamp? = nil, action: String? = nil, token: String? = nil,
        sessionID: String? = nil, bindID: BindID? = nil, hresult: String? = nil, page: PageRequest = PageRequest()
    ) {
        self.since = since
        self.until = until
        self.action = action
        self.token = token
        self.sessionID = sessionID
        self.bindID = bindID
        self.hresult = hresult
        self.page = page
    }
}

/// How long audit records are kept: at most `maxAgeSeconds` and at most `maxRecords` of them
/// (the oldest go first).
public struct AuditRetention: Sendable, Equatable {
    /// Records older than this many seconds are deleted.
    public var maxAgeSeconds: Double
    /// At most this many records are kept.
    public var maxRecords: Int

    /// Seven days and a million records.
    public init(maxAgeSeconds: Double = 7 * 86_400, maxRecords: Int = 1_000_000) {
        self.maxAgeSeconds = maxAgeSeconds
        self.maxRecords = maxRecords
    }
}
