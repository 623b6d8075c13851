import FirewallPipeline
import FirewallSessions

/// Where the state is kept between runs: read once at start, then the first sink of the change
/// pipeline, so a change is durable before anything else (the kernel, the caller, subscribers)
/// sees it.
public protocol PersistenceBackend: ChangeSink {
    /// Reads everything stored; called once, before the pipeline starts.
    func load() throws(PersistenceError) -> PersistedState
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
