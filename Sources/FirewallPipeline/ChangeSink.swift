import FirewallSessions

/// A place every change must reach before the caller that made it is answered: the durable
/// store, then the kernel's firewall table. The pipeline hands each sink its batches in order,
/// on a thread of the sink's own, so a sink may block (fsync, netlink).
public protocol ChangeSink: AnyObject, Sendable {
    /// A short name for logs, metrics and `/readyz` (`store`, `dataplane`).
    var name: String { get }

    /// Whether `start` needs the restored state (building it for a million binds costs time and
    /// memory, so it is only built when a sink asks).
    var needsRestoredState: Bool { get }

    /// Brings the sink in line with the whole restored state before the first batch (the data
    /// plane replaces its table from it; a store it was loaded from has nothing to do and is
    /// handed an empty state).
    func start(from state: PersistedState) throws(SinkError)

    /// Applies one batch as a whole: afterwards either all of it holds or none of it does. A batch
    /// that throws is offered again, with what was queued since, until it succeeds; changes are
    /// idempotent (upserts and deletes by key), so applying one twice is harmless.
    func apply(_ changes: [StateChange]) throws(SinkError)

    /// How often `maintain` runs while no batch comes (nil: never).
    var maintenanceInterval: Double? { get }

    /// Work of the sink's own, on its thread, between batches (the data plane checks its table).
    func maintain()

    /// Called on the sink's thread after the last batch, when the pipeline closes.
    func finish()
}

extension ChangeSink {
    public var needsRestoredState: Bool { false }
    public func start(from state: PersistedState) throws(SinkError) {}
    public var maintenanceInterval: Double? { nil }
    public func maintain() {}
    public func finish() {}
}

/// Why a sink could not apply a batch, for operators.
public struct SinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// A sink that is failing: which one and why (for `/readyz`, the log and the 503 detail).
public struct PipelineFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failing sink's name.
    public var sink: String
    /// Its error.
    public var message: String

    /// Creates a failure.
    public init(sink: String, message: String) {
        self.sink = sink
        self.message = message
    }

    public var description: String { "\(sink): \(message)" }
}
