import EventLoop
import FirewallPipeline
import FirewallSessions

/// The one owner of all sessions, binds and policy: every read and change goes through this actor.
///
/// A change is applied in memory, handed to the change pipeline (the durable store, then the
/// kernel) without waiting, and answered with the ticket that covers it; `FirewallService` waits
/// for that ticket outside the actor, so the actor keeps serving while the disk syncs and many
/// changes share one commit. The change's events travel with it and are published only once the
/// ticket completes.
///
/// Its executor is an `EventLoop`: the HTTP server's thread when it runs there, so a request's
/// hop into the actor does not change threads; the state stays this actor's alone either way.
actor SessionStore {
    /// The thread this actor runs on.
    nonisolated let loop: EventLoop
    var state: FirewallState
    let pipeline: ChangePipeline
    let clock: @Sendable () -> Timestamp
    /// With a data plane: where binds' counters are read before an approval or session expires
    /// for lack of traffic.
    let traffic: (any TrafficCounterSource)?
    var timerTask: Task<Void, Never>?
    private var lastPeerPrune: Timestamp
    /// The ticket of the newest change that reads must not run ahead of. Counter flushes do not
    /// move it: counters are approximate, and a read or decision must not wait for a big flush.
    private var visibleTicket: CommitTicket
    /// The rest of the array, when this node is one of several (`SessionStore+Array.swift`).
    var array = ArrayView()

    /// Approximate counters are written on every timer tick (at least once a second), at most
    /// this many binds' worth per commit, so a flush never holds the actor or the disk for long.
    static let countersPerFlush = 1_000

    /// Builds the store over a restored state.
    init(
        state: FirewallState, pipeline: ChangePipeline, clock: @escaping @Sendable () -> Timestamp,
        traffic: (any TrafficCounterSource)? = nil, loop: EventLoop
    ) {
        self.loop = loop
        self.state = state
        self.pipeline = pipeline
        self.clock = clock
        self.traffic = traffic
        lastPeerPrune = clock()
        visibleTicket = pipeline.latestTicket
    }

    /// The whole state as stored, for sinks that bring themselves in line with it at start.
    func snapshot() -> PersistedState { state.snapshot() }

    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    // MARK: Running

    /// Starts the timer loop (pending expiry, grace purges, counter flushes). Timers already due
    /// after a restart run at once.
    func startTimers() {
        guard timerTask == nil else { return }
        let traffic = traffic
        timerTask = Task { [weak self] in
            while !Task.isCancelled {
                guard let delay = await self?.tick() else { return }
                // Idle approvals and sessions wait for the kernel's counters, read outside the actor.
                if let traffic, let checks = await self?.takeIdleChecks(), !checks.isEmpty {
                    await self?.confirmIdle(checks, readings: Array(traffic.counters(of: checks.binds).values))
                }
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            }
        }
    }

    /// Stops the timers and writes every counter; the caller closes the pipeline afterwards.
    func stop() {
        timerTask?.cancel()
        timerTask = nil
        flushCounters(limit: .max)
    }

    /// Runs what is due and returns how long to sleep (at most a second, so counters and peers
    /// are tended even when no deadline is near).
    func tick() -> Double {
        let now = clock()
        var changes = ChangeSet()
        state.runTimers(now: now, changes: &changes)
        commit(changes)
        flushCounters(limit: Self.countersPerFlush)
        if now.seconds - lastPeerPrune.seconds >= state.settings.bidirectionalWindowSeconds {
            state.pruneRecentPeers(now: now)
            lastPeerPrune = now
        }
        let untilNext = state.nextDeadline.map { $0.seconds - clock().seconds } ?? 1
        return min(max(untilNext, 0.01), 1)
    }

    private func takeIdleChecks() -> IdleChecks { state.takeIdleChecks() }

    private func confirmIdle(_ checks: IdleChecks, readings: [BindCounters]) {
        var changes = ChangeSet()
        state.confirmIdle(checks, readings: readings, now: clock(), changes: &changes)
        commit(changes)
    }

    private func flushCounters(limit: Int) {
        // In id order, so the updates walk the table's pages in order instead of at random.
        let counters = state.takeDirtyCounters(limit: limit).sorted { $0.bindID < $1.bindID }
        if !counters.isEmpty { _ = pipeline.enqueue([.bindCounters(counters)], events: []) }
    }

    // MARK: The one path every operation takes

    /// Applies a change under the actor: refused up front while a sink fails (so memory does not
    /// run ahead of the disk and the kernel), then handed to the pipeline. With `audit`, a change
    /// that changed something carries its audit record in the same change set (one transaction).
    func mutate<T: Sendable>(
        _ audit: AuditIntent<T>? = nil,
        _ body: @Sendable (inout FirewallState, Timestamp, inout ChangeSet) throws(FirewallError) -> T
    ) throws(FirewallError) -> Durable<T> {
        if let failure = pipeline.failure { throw FirewallError.unavailable(failure) }
        try array.refuseWrites(sequencesLeft: state.sequencesLeft)
        var changes = ChangeSet()
        let now = clock()
        let value = try body(&state, now, &changes)
        audit?.append(value, at: now, to: &changes)
        return Durable(value: value, ticket: commit(changes))
    }

    /// Reads under the actor; the ticket makes the caller wait until what it saw is durable.
    func read<T: Sendable>(_ body: @Sendable (FirewallState) throws(FirewallError) -> T) throws(FirewallError) -> Durable<T> {
        Durable(value: try body(state), ticket: visibleTicket)
    }

    /// Decisions change only counters and recent peers, which are not durable promises.
    func decide<T: Sendable>(_ body: @Sendable (inout FirewallState, Timestamp) throws(FirewallError) -> T) throws(FirewallError)
        -> Durable<T>
    {
        Durable(value: try body(&state, clock()), ticket: visibleTicket)
    }

    @discardableResult
    func commit(_ changes: ChangeSet) -> CommitTicket {
        if !changes.isEmpty { visibleTicket = pipeline.enqueue(changes.changes, events: changes.events) }
        return visibleTicket
    }

    /// Counters read from the kernel become the binds' counters.
    func recordTrafficCounters(_ readings: [BindCounters]) {
        state.recordTrafficCounters(readings, now: clock())
    }

    // MARK: Gauges

    /// Counts by state and the policy version, kept incrementally (no scan).
    func statistics() -> StoreStatistics {
        StoreStatistics(
            sessionsByState: Dictionary(uniqueKeysWithValues: SessionState.allCases.map { ($0, state.sessionCount($0)) }),
            bindsByState: Dictionary(uniqueKeysWithValues: BindState.allCases.map { ($0, state.bindCount($0)) }),
            policyVersion: state.policyVersion, mirroredSessions: array.mirror.totalSessionCount,
            mirroredBinds: array.mirror.totalBindCount)
    }

    /// The binds holding an address, here and (in an array) on the other nodes.
    func binds(holding address: SocketAddress, transport: TransportProtocol?) -> Durable<[Bind]> {
        let mirrored = array.mirror.binds(holding: address, transport: transport)
        return Durable(
            value: (state.binds(holding: address, transport: transport) + mirrored).sorted { $0.id < $1.id },
            ticket: visibleTicket)
    }
}

/// A result and the commit ticket it depends on.
struct Durable<Value: Sendable>: Sendable {
    var value: Value
    var ticket: CommitTicket
}

/// Gauges of the store.
public struct StoreStatistics: Sendable, Equatable {
    /// Sessions per state.
    public var sessionsByState: [SessionState: Int]
    /// Binds per state.
    public var bindsByState: [BindState: Int]
    /// The current policy version.
    public var policyVersion: Int64
    /// In an array: the other nodes' sessions and binds mirrored here (their lists answer for them too).
    public var mirroredSessions = 0
    /// See `mirroredSessions`.
    public var mirroredBinds = 0
}
