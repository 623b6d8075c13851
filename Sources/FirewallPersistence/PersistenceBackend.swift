import FirewallPipeline
import FirewallSessions

/// Where the state is kept between runs: read once at start, then the first sink of the change
/// pipeline, so a change is durable before anything else (the kernel, the caller, subscribers)
/// sees it.
public protocol PersistenceBackend: ChangeSink {
    /// Reads everything stored; called once, before the pipeline starts.
    func load() throws(PersistenceError) -> PersistedState
}

/// A failure of the durable store, with a message for operators and, when SQLite reported it,
/// SQLite's result code (match on it, never on the message).
public struct PersistenceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// SQLite's result code, extended where SQLite gave one; nil for a failure that is not SQLite's.
    public var resultCode: SQLiteResultCode?

    /// Creates an error.
    public init(_ message: String, resultCode: SQLiteResultCode? = nil) {
        self.message = message
        self.resultCode = resultCode
    }

    /// The message.
    public var description: String { message }
}
