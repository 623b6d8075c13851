import FirewallSessions
import MicroHTTPServer
import Synchronization

/// Fans state-change events out to `/events` subscribers and keeps the last ones for resumption.
///
/// `publish` is called by the store actor in event order; each event is encoded once. Ids grow
/// monotonically, also across restarts (they start from the start time in microseconds), so a
/// `Last-Event-ID` from before a restart is recognised as too old and answered with `reset`.
public final class EventHub: Sendable {
    private struct State {
        var ring: [PublishedEvent] = []
        var ringStart = 0
        var lastID: UInt64
        var subscribers: [ObjectIdentifier: EventSubscription] = [:]
        var closed = false
    }

    /// The limits.
    public let settings: EventStreamSettings
    private let state: Mutex<State>
    private let subscriberCountChanged: @Sendable (Int) -> Void

    /// Creates a hub; `subscriberCountChanged` feeds the subscribers gauge.
    public init(settings: EventStreamSettings, subscriberCountChanged: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.settings = settings
        self.subscriberCountChanged = subscriberCountChanged
        state = Mutex(State(lastID: UInt64(Timestamp.now().seconds * 1_000_000)))
    }

    /// Connected subscribers.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// The newest event id.
    public var lastEventID: UInt64 { state.withLock { $0.lastID } }

    /// Numbers, encodes, keeps and delivers events.
    public func publish(_ events: [DomainEvent]) {
        let now = Timestamp.now()
        let (published, subscribers) = state.withLock { state -> ([PublishedEvent], [EventSubscription]) in
            var published: [PublishedEvent] = []
            for event in events {
                state.lastID += 1
                let item = PublishedEvent(id: state.lastID, event: event, time: now)
                published.append(item)
                if state.ring.count < settings.ringBufferSize {
                    state.ring.append(item)
                } else {
                    state.ring[state.ringStart] = item
                    state.ringStart = (state.ringStart + 1) % state.ring.count
                }
            }
            return (published, Array(state.subscribers.values))
        }
        for subscriber in subscribers {
            for item in published { subscriber.deliver(item) }
        }
    }

    /// Why a subscription was refused.
    public enum SubscribeFailure: Error, Sendable {
        case tooManySubscribers(limit: Int)
        case shuttingDown
    }

    /// Tells every subscriber to re-read the state: changes were applied whose events were never
    /// published (their callers were answered with an error, then a retry applied them). The
    /// event ids move on and the ring is emptied, so a client resuming from before this point gets
    /// `reset` too.
    public func resync(reason: String) {
        let (frame, subscribers) = state.withLock { state in
            state.lastID += 1
            state.ring = []
            state.ringStart = 0
            let frame = SSEFrame.make(
                id: nil, event: "reset",
                data: Array(#"{"reason":"\#(reason); re-read the state","lastEventId":\#(state.lastID)}"#.utf8))
            return (frame, Array(state.subscribers.values))
        }
        for subscriber in subscribers { subscriber.deliverToAll(frame) }
    }

    /// A new subscriber. With `lastEventID`, the kept events after it are replayed first; when
    /// they are no longer all kept, a `reset` event comes first and only new events follow.
    public func subscribe(filter: EventFilter, lastEventID: UInt64?) -> Result<any HTTPBodyStream, SubscribeFailure> {
        let result = state.withLock { state -> Result<EventSubscription, SubscribeFailure> in
            guard !state.closed else { return .failure(.shuttingDown) }
            guard state.subscribers.count < settings.maxSubscribers else {
                return .failure(.tooManySubscribers(limit: settings.maxSubscribers))
            }
            var initial = SSEFrame.preamble
            if let lastEventID, lastEventID < state.lastID {
                let ordered = Array(state.ring[state.ringStart...] + state.ring[..<state.ringStart])
                let oldest = ordered.first?.id ?? state.lastID + 1
                if lastEventID + 1 < oldest {
                    initial += SSEFrame.make(
                        id: nil, event: "reset",
                        data: Array(#"{"reason":"events after \#(lastEventID) are no longer kept; re-read the state","lastEventId":\#(state.lastID)}"#.utf8))
                } else {
                    for item in ordered where item.id > lastEventID && filter.matches(item) { initial += item.frame }
                }
            }
            let subscription = EventSubscription(
                filter: filter, limit: settings.subscriberBufferBytes, initial: initial,
                onClose: { [weak self] closed in self?.unsubscribe(closed) })
            state.subscribers[ObjectIdentifier(subscription)] = subscription
            return .success(subscription)
        }
        if case .success = result { subscriberCountChanged(subscriberCount) }
        return result.map { $0 as any HTTPBodyStream }
    }

    private func unsubscribe(_ subscription: EventSubscription) {
        let count = state.withLock { state in
            state.subscribers[ObjectIdentifier(subscription)] = nil
            return state.subscribers.count
        }
        subscriberCountChanged(count)
    }

    /// Sends a heartbeat comment to every subscriber that was idle since the last one.
    public func sendHeartbeats() {
        for subscriber in state.withLock({ Array($0.subscribers.values) }) { subscriber.heartbeat() }
    }

    /// Sends heartbeats every `heartbeatSeconds` until the task is cancelled or the hub closed.
    public func runHeartbeats() async {
        while !Task.isCancelled && !state.withLock({ $0.closed }) {
            try? await Task.sleep(for: .seconds(settings.heartbeatSeconds))
            sendHeartbeats()
        }
    }

    /// Ends every stream (server shutdown) and refuses new subscribers.
    public func close() {
        let subscribers = state.withLock { state in
            state.closed = true
            return Array(state.subscribers.values)
        }
        let farewell = SSEFrame.make(id: nil, event: "shutdown", data: Array(#"{"reason":"the server is stopping"}"#.utf8))
        for subscriber in subscribers { subscriber.finish(with: farewell) }
    }
}
