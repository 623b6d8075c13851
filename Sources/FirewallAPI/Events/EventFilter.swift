import FirewallSessions

/// Which events a subscriber wants: `?sessionId=` and `?types=`.
public struct EventFilter: Sendable, Equatable {
    /// Only events of this session.
    public var sessionID: String?
    /// Only these types; nil means all.
    public var types: Set<DomainEvent.Kind>?

    /// Creates a filter; nil fields match everything.
    public init(sessionID: String? = nil, types: Set<DomainEvent.Kind>? = nil) {
        self.sessionID = sessionID
        self.types = types
    }

    func matches(_ event: PublishedEvent) -> Bool {
        if let types, !types.contains(event.kind) { return false }
        if let sessionID, event.sessionID != sessionID { return false }
        return true
    }
}
