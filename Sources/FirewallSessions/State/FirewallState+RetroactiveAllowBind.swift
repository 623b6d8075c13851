/// A validated RetroactiveAllowBind call (IFWXSession::RetroactiveAllowBind).
public struct RetroactiveAllowBindRequest: Sendable, Equatable {
    /// The bind's protocol.
    public var transport: TransportProtocol
    /// The bound address; the wildcard matches every bind of the session on that port.
    public var address: SocketAddress
    /// The protocol the bind is part of; the access rules must allow it to the session's user.
    public var protocolGUID: ProtocolGUID
    /// dwFlags.
    public var flags: BindFlags
    /// The permitted peers; nil means every peer.
    public var ipFilter: BindIPFilter?
    /// How long the approval should last (clamped by the configured limits); nil: the configured default.
    public var lifetimeSeconds: Double?

    /// Creates a request: check 1 of RetroactiveAllowBind for all the request itself decides.
    /// `flags` come in the caller's order (so an error names `flags[i]`), each at most once, and
    /// `bidirectional` only for UDP; an inline filter was built by `BindIPFilter.building`. Whether
    /// a stored filter exists is the rest of check 1, made with the state.
    public init(
        transport: TransportProtocol, address: SocketAddress, protocolGUID: ProtocolGUID, flags: [BindFlags] = [],
        ipFilter: BindIPFilter? = nil, lifetimeSeconds: Double? = nil
    ) throws(FirewallError) {
        var granted: BindFlags = []
        for (index, flag) in flags.enumerated() {
            if flag.contains(.bidirectional) && transport != .udp {
                throw .invalid("flags[\(index)]", "is only valid for protocol udp")
            }
            guard granted.isDisjoint(with: flag) else { throw .invalid("flags[\(index)]", "is given twice") }
            granted.formUnion(flag)
        }
        self.transport = transport
        self.address = address
        self.protocolGUID = protocolGUID
        self.flags = granted
        self.ipFilter = ipFilter
        self.lifetimeSeconds = lifetimeSeconds
    }
}

/// What RetroactiveAllowBind answers: S_OK or S_FALSE and the matched binds as they are now.
public struct RetroactiveAllowBindResult: Sendable, Equatable {
    /// S_OK when a bind became allowed, S_FALSE when all were allowed already.
    public var hresult: HResult
    /// The matched binds after the call.
    public var binds: [Bind]
}

extension FirewallState {
    /// Approves a session's pending bind(s) after the fact, checking in the order API.md fixes:
    /// (1) the request is valid (what it alone decides was checked when it was built; here, that a
    /// stored filter it names exists), (2) the session
    /// exists, (3) a matching bind exists in it, (4) neither is terminating, (5) the access rules
    /// allow the session's user `protocolGUID`, (6) not already allowed (S_FALSE; an approval with
    /// a lifetime or idle timeout is renewed), (7) allow (S_OK).
    public mutating func retroactiveAllowBind(
        sessionID: String, _ request: RetroactiveAllowBindRequest, now: Timestamp, changes: inout ChangeSet
    ) throws(FirewallError) -> RetroactiveAllowBindResult {
        if case .stored(let filterID) = request.ipFilter, filters[filterID] == nil {
            throw FirewallError(.ERROR_NOT_FOUND, "no IP filter with id '\(filterID)'",
                                fieldErrors: [FieldError(field: "ipFilterId", reason: "names no IP filter")])
        }
        guard let session = sessions[sessionID] else { throw .notFound("session", sessionID) }
        let matched = matchingBinds(of: sessionID, request.transport, request.address)
        guard !matched.isEmpty else {
            throw FirewallError(
                .ERROR_NOT_FOUND,
                "session '\(sessionID)' has no \(request.transport.rawValue) bind matching \(request.address)")
        }
        if session.state == .terminating {
            throw FirewallError(.FWX_E_TERMINATING, "session '\(sessionID)' is terminating")
        }
        if let closing = matched.first(where: { $0.state == .terminating }) {
            throw FirewallError(.FWX_E_TERMINATING, "bind \(closing.id) is terminating")
        }
        let evaluation = evaluator.evaluate(
            protocolGUID: request.protocolGUID, user: session.user, clientAddress: session.clientAddress)
        guard evaluation.action == .allow else {
            throw FirewallError(
                .FWX_E_PROTOCOL_RULES_DENIED,
                "rule '\(evaluation.ruleName)' (\(evaluation.ruleID)) denies \(session.user?.name ?? "the unauthenticated user") protocol \(request.protocolGUID)"
            )
        }
        guard matched.contains(where: { $0.state == .pending }) else {
            let renewed = renewApprovals(matched, request, now: now, changes: &changes)
            if renewed != matched { touchSession(sessionID, now: now, changes: &changes) }
            return RetroactiveAllowBindResult(hresult: .S_FALSE, binds: renewed)
        }
        var result: [Bind] = []
        for var bind in matched {
            if bind.state == .pending {
                bind.grant = grant(for: request, now: now)
                transition(&bind, to: .allowed, now: now)
                changes.changes.append(.bindSaved(bind))
                changes.events.append(DomainEvent(kind: .bindAllowed, sessionID: sessionID, bind: bind))
            }
            result.append(bind)
        }
        touchSession(sessionID, now: now, changes: &changes)
        return RetroactiveAllowBindResult(hresult: .S_OK, binds: result)
    }

    /// A specific address matches the bind on exactly that address, or else the session's
    /// wildcard bind on that port; the wildcard matches every bind of the session on the port.
    func matchingBinds(of sessionID: String, _ transport: TransportProtocol, _ address: SocketAddress) -> [Bind] {
        if address.isWildcard {
            return bindIndex.onPort(transport, family: address.ip.family, port: address.port)
                .compactMap { binds[$0] }
                .filter { $0.sessionID == sessionID }
                .sorted { $0.id < $1.id }
        }
        for candidate in [bindIndex.exact(transport, address), bindIndex.wildcard(transport, for: address)] {
            if let id = candidate, let bind = binds[id], bind.sessionID == sessionID { return [bind] }
        }
        return []
    }
}
