import FirewallSessions

/// What the service needs from the array when this node is one of several (`--store postgres`):
/// array-wide claims of session ids and bind addresses, and shared-policy changes serialised
/// across every node. Implemented over PostgreSQL by the executable, which also feeds the other
/// direction (other nodes' policy changes, mirrors, adoption) into `FirewallService`.
public protocol ArrayMembership: Sendable {
    /// This node's id.
    var nodeID: String { get }

    /// Nil while this node can write to the array, else why not (fenced, PostgreSQL unreachable).
    var failure: String? { get }

    /// Reserves a session id array-wide: false when another node holds it.
    func claimSession(_ id: String) async throws(FirewallError) -> Bool

    /// Gives back a session id claimed for a session that was not created.
    func releaseSession(_ id: String) async

    /// Reserves a protocol and address array-wide: nil, or the bind that holds it.
    func claimAddress(_ transport: TransportProtocol, _ address: SocketAddress, bindID: BindID, sessionID: String) async
        throws(FirewallError) -> BindReference?

    /// Gives back an address claimed for a bind that was not created.
    func releaseAddress(bindID: BindID) async

    /// Makes a shared-policy change array-wide. Under the array's policy lock it first brings
    /// this node up to the array's policy (`catchUp`), then has `propose` compute the change on
    /// it, writes it and notifies every node; returns the committed policy. Nothing is written
    /// when `propose` refuses.
    func changePolicy(
        catchUp: @escaping @Sendable (SharedPolicy) async -> Void,
        propose: @escaping @Sendable () async -> Result<PolicyProposal, FirewallError>
    ) async throws(FirewallError) -> SharedPolicy
}
