/// Limits of the `/events` stream, all configurable.
public struct EventStreamSettings: Sendable, Equatable {
    /// Events kept for `Last-Event-ID` resumption.
    public var ringBufferSize = 10_000
    /// A comment is sent to an idle stream this often, so proxies keep it open.
    public var heartbeatSeconds = 15
    /// Bytes a subscriber may fall behind before it is dropped (the API never waits for it).
    public var subscriberBufferBytes = 1_048_576
    /// Concurrent subscribers; more get 429.
    public var maxSubscribers = 1000

    /// The defaults.
    public init() {}
}
