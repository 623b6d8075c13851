import Synchronization

/// Holds responder tasks until the test opens it, and tells the test when they have arrived,
/// so "a request is in flight" is a fact the test waits for rather than a sleep it hopes is long enough.
final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var arrivals = 0
        var passers: [CheckedContinuation<Void, Never>] = []
        var arrivalWatchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    /// Arrives, then waits until the gate is open.
    func pass() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (passNow, watchers) = state.withLock { state in
                state.arrivals += 1
                let arrivals = state.arrivals
                let ready = state.arrivalWatchers.filter { $0.count <= arrivals }
                state.arrivalWatchers.removeAll { $0.count <= arrivals }
                if !state.isOpen { state.passers.append(continuation) }
                return (state.isOpen, ready.map(\.continuation))
            }
            for watcher in watchers { watcher.resume() }
            if passNow { continuation.resume() }
        }
    }

    /// Returns once `count` tasks have arrived in total.
    func waitForArrivals(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let already = state.withLock { state in
                if state.arrivals >= count { return true }
                state.arrivalWatchers.append((count, continuation))
                return false
            }
            if already { continuation.resume() }
        }
    }

    /// Lets every waiting and later task through.
    func open() {
        let passers = state.withLock { state in
            state.isOpen = true
            defer { state.passers.removeAll() }
            return state.passers
        }
        for passer in passers { passer.resume() }
    }
}
