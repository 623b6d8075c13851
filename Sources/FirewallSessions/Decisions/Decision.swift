/// Which way a packet travels relative to the gateway's external address.
public enum TrafficDirection: String, Sendable, Hashable, CaseIterable {
    /// From a peer to a bind.
    case inbound
    /// From a bind back to a peer (UDP only).
    case outbound
}

/// A data plane's question: what happens to this packet?
public struct DecisionQuery: Sendable, Equatable {
    /// TCP or UDP.
    public var transport: TransportProtocol
    /// Inbound or outbound.
    public var direction: TrafficDirection
    /// Inbound: the peer. Outbound: the bound address.
    public var source: SocketAddress
    /// Inbound: the bound address. Outbound: the peer.
    public var destination: SocketAddress

    /// Creates a query; outbound TCP is rejected because only UDP binds may reply (bidirectional).
    public init(
        transport: TransportProtocol, direction: TrafficDirection, source: SocketAddress, destination: SocketAddress
    ) throws(FirewallError) {
        guard !(transport == .tcp && direction == .outbound) else {
            throw .invalid("direction", "may be outbound only for protocol udp")
        }
        self.transport = transport
        self.direction = direction
        self.source = source
        self.destination = destination
    }
}

/// Accept or discard.
public enum Verdict: String, Sendable, Hashable, CaseIterable {
    case accept
    case discard
}

/// Why a decision came out as it did: the decision path made visible.
public enum DecisionReason: String, Sendable, Hashable, CaseIterable {
    /// No bind holds the address.
    case noBind = "no-bind"
    /// The bind is not approved yet.
    case bindPending = "bind-pending"
    /// The bind is closing.
    case bindTerminating = "bind-terminating"
    /// The bind's IP filter does not include the peer.
    case ipFilter = "ip-filter"
    /// An allowed bind and a permitted peer.
    case allowed
    /// An outbound reply of a bidirectional UDP bind to a recent peer.
    case bidirectionalReply = "bidirectional-reply"
    /// Outbound, but the bind does not have the bidirectional flag.
    case notBidirectional = "not-bidirectional"
    /// Outbound to a peer that has not sent to the bind within the window.
    case notRecentPeer = "not-recent-peer"
}

/// The control plane's answer to a `DecisionQuery`.
public struct Decision: Sendable, Equatable {
    /// Accept or discard.
    public var verdict: Verdict
    /// Why.
    public var reason: DecisionReason
    /// The session of the bind that decided, if any.
    public var sessionID: String?
    /// The bind that decided, if any.
    public var bindID: BindID?

    /// Creates a decision.
    public init(verdict: Verdict, reason: DecisionReason, sessionID: String? = nil, bindID: BindID? = nil) {
        self.verdict = verdict
        self.reason = reason
        self.sessionID = sessionID
        self.bindID = bindID
    }
}
