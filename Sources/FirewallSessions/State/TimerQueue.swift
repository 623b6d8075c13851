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

    init() {}

    var count: Int { heap.count }

    /// The earliest deadline, if any.
    var nextDeadline: Timestamp? { heap.min.map { Timestamp(seconds: $0.deadline) } }

    mutating func schedule(_ action: Action, at deadline: Timestamp) {
        heap.insert(Entry(deadline: deadline.seconds, action: action))
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
