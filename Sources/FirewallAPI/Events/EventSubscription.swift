import MicroHTTPServer
import Synchronization

/// One `/events` client: a bounded queue of SSE bytes that the HTTP server drains.
///
/// The API never waits for a subscriber: when its queue would pass the limit, the queue is
/// replaced by a final `dropped` event and the stream ends.
final class EventSubscription: HTTPBodyStream {
    private struct State {
        var pending: [UInt8] = []
        var offset = 0
        var finishing = false
        var readable: (@Sendable () -> Void)?
        var sentSinceHeartbeat = false
    }

    let filter: EventFilter
    private let limit: Int
    private let state = Mutex(State())
    private let onClose: @Sendable (EventSubscription) -> Void

    init(filter: EventFilter, limit: Int, initial: [UInt8], onClose: @escaping @Sendable (EventSubscription) -> Void) {
        self.filter = filter
        self.limit = limit
        self.onClose = onClose
        state.withLock { $0.pending = initial }
    }

    /// Queues an event's frame if the filter wants it; drops the subscriber when it is too far behind.
    func deliver(_ event: PublishedEvent) {
        guard filter.matches(event) else { return }
        enqueue(event.frame, dropWhenFull: true)
    }

    /// Queues a frame every subscriber must see, whatever its filter (`reset`).
    func deliverToAll(_ frame: [UInt8]) {
        enqueue(frame, dropWhenFull: true)
    }

    /// Queues a heartbeat unless something was sent since the last one.
    func heartbeat() {
        let idle = state.withLock { state in
            defer { state.sentSinceHeartbeat = false }
            return !state.sentSinceHeartbeat && state.pending.count == state.offset
        }
        if idle { enqueue(SSEFrame.heartbeat, dropWhenFull: false) }
    }

    /// Ends the stream after `frame` (server shutdown).
    func finish(with frame: [UInt8]) {
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.finishing else { return nil }
            state.pending += frame
            state.finishing = true
            return state.readable
        }
        wake?()
    }

    private func enqueue(_ frame: [UInt8], dropWhenFull: Bool) {
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.finishing else { return nil }
            if dropWhenFull && state.pending.count - state.offset + frame.count > limit {
                state.pending = SSEFrame.make(
                    id: nil, event: "dropped",
                    data: Array(#"{"reason":"the subscriber fell more than \#(limit) bytes behind"}"#.utf8))
                state.offset = 0
                state.finishing = true
            } else {
                state.pending += frame
                state.sentSinceHeartbeat = true
            }
            return state.readable
        }
        wake?()
    }

    // MARK: HTTPBodyStream

    func read(into buffer: UnsafeMutableRawBufferPointer) -> HTTPBodyStreamRead {
        state.withLock { state in
            let available = state.pending.count - state.offset
            guard available > 0 else { return state.finishing ? .finished : .wouldBlock }
            let count = min(available, buffer.count)
            state.pending.withUnsafeBytes { source in
                buffer.baseAddress?.copyMemory(from: source.baseAddress! + state.offset, byteCount: count)
            }
            state.offset += count
            if state.offset == state.pending.count {
                state.pending.removeAll(keepingCapacity: true)
                state.offset = 0
            } else if state.offset > 65_536 && state.offset * 2 > state.pending.count {
                state.pending.removeFirst(state.offset)
                state.offset = 0
            }
            return .bytes(count)
        }
    }

    func setReadableHandler(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.readable = handler }
    }

    func closed() {
        state.withLock { state in
            state.finishing = true
            state.readable = nil
            state.pending = []
            state.offset = 0
        }
        onClose(self)
    }
}
