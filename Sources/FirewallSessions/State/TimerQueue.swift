import HeapModule

/// Deadlines of pending-bind expiry, approval and session expiry and grace-period purges, earliest first.
///
/// Entries are checked lazily when due: an entry whose object changed state since it was queued is
/// simply dropped, so nothing has to be removed from the heap when a bind is approved or closed.
struct TimerQueue: Sendable {
    enum Action: Hashable, Sendable {
        case expirePendingBind(BindID)
        case purgeBind(BindID)
        case purgeSession(String)
        /// An approval's lifetime or idle timeout may have run out.
        case expireApproval(BindID)
        /// A session's idle timeout may have run out.
        case expireIdleSession(String)
    }

    struct Entry: Comparable, Sendable {
        var deadline: Double
        var action: Action

        static func < (lhs: Entry, rhs: Entry) -> Bool { lhs.deadline < rhs.deadline }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.deadline == rhs.deadline && lhs.action == rhs.action }
    }

    private var heap = Heap<Entry>()
    /// The deadline of the one live entry of each action queued with `scheduleOnce`: its other
    /// entries are stale, and `takeLive` tells them apart when they fall due.
    private var live: [Action: Double] = [:]

    init() {}

    var count: Int { heap.count }

    /// The earliest deadline, if any.
    var nextDeadline: Timestamp? { heap.min.map { Timestamp(seconds: $0.deadline) } }

    mutating func schedule(_ action: Action, at deadline: Timestamp) {
        heap.insert(Entry(deadline: deadline.seconds, action: action))
    }

    /// For deadlines that move (traffic, renewals): queues `action` at `deadline` unless its live
    /// entry falls due at or before then; that one, when due, is queued again by its owner at the
    /// deadline as it is by then. So each action has at most one live entry however often its
    /// deadline moves, and nothing is ever removed from the heap.
    mutating func scheduleOnce(_ action: Action, at deadline: Timestamp) {
        if let queued = live[action], queued <= deadline.seconds { return }
        live[action] = deadline.seconds
        heap.insert(Entry(deadline: deadline.seconds, action: action))
    }

    /// Whether a due entry is its action's live one (which is then forgotten); false for a stale one.
    mutating func takeLive(_ entry: Entry) -> Bool {
        guard live[entry.action] == entry.deadline else { return false }
        live[entry.action] = nil
        return true
    }

    /// Forgets an action's live entry (its object is gone); the entry is dropped when due.
    mutating func forget(_ action: Action) {
        live[action] = nil
    }

    /// Removes and returns the next entry due at `now`, if any.
    mutating func popDue(at now: Timestamp) -> Action? {
        popDueEntry(at: now)?.action
    }

    /// Removes and returns the next entry due at `now` with its deadline, if any.
    mutating func popDueEntry(at now: Timestamp) -> Entry? {
        guard let first = heap.min, first.deadline <= now.seconds else { return nil }
        return heap.removeMin()
    }
}
