import FirewallSessions

/// A position in the stream of committed change batches: wait for it to know a change is durable.
public typealias CommitTicket = UInt64

/// Where the state is kept between runs.
///
/// Changes are enqueued without blocking (the store actor never waits on the disk) and a caller
/// that must not answer before its change is durable awaits the ticket outside the actor. That
/// split is what lets many requests share one fsync (group commit).
public protocol PersistenceBackend: Sendable {
    /// Reads everything stored; called once, before the first `enqueue`.
    func load() throws(PersistenceError) -> PersistedState
    /// Queues changes for the next commit and returns the ticket that covers them.
    func enqueue(_ changes: [StateChange]) -> CommitTicket
    /// The newest ticket handed out (reads wait on it so they never show what is not yet durable).
    var latestTicket: CommitTicket { get }
    /// Returns once every change up to `ticket` is durable; throws if committing them failed.
    func waitDurable(_ ticket: CommitTicket) async throws(PersistenceError)
    /// Nil while writes succeed, else why they fail (for `/readyz` and to refuse new writes).
    var failure: PersistenceError? { get }
    /// Commits what is queued and closes the store.
    func close() async
}

/// A failure of the durable store, with a message for operators.
public struct PersistenceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}
