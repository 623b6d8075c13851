import FirewallPipeline
import FirewallSessions
import Logging
import Synchronization

/// The nftables data plane: the kernel's verdict on every packet to a bound address is
/// fwsessiond's state. A sink of the change pipeline after the durable store, so a change is
/// answered only once the kernel transaction holding it committed.
///
/// It keeps the wanted state of every bind in memory (reading 100,000 elements back from the
/// kernel takes seconds, DATAPLANE.md) and turns each batch of changes into one transaction of element
/// additions and deletions. Everything that touches libnftables runs on the pipeline's data
/// plane thread (`start`, `apply`, `maintain`, `finish`); counters are read over netlink.
public final class NFTablesDataPlane: ChangeSink, TrafficCounterSource {
    public var name: String { "dataplane" }
    public var needsRestoredState: Bool { true }
    public var maintenanceInterval: Double? { 1 }

    private let settings: DataPlaneSettings
    private let definition: TableDefinition
    let logger: Logger
    private let reader: KernelReader
    private let observer = Mutex<(@Sendable ([BindCounters]) -> Void)?>(nil)
    private let thread: ThreadState
    /// The generation in use: the data plane thread switches it, readers of counters follow it.
    private let inUse = Mutex(Generation.a)
    /// Elements per transaction of a full load (bounds the memory of the batch).
    static let loadBatch = 20_000
    /// Repairs and full loads, for metrics.
    private let events: (@Sendable (DataPlaneEvent) -> Void)?

    /// Opens the netlink socket; nothing touches the kernel's firewall until `start`.
    public init(
        settings: DataPlaneSettings, bidirectionalWindowSeconds: Double, logger: Logger,
        events: (@Sendable (DataPlaneEvent) -> Void)? = nil
    ) throws(SinkError) {
        guard DataPlaneSettings.isValidTableName(settings.table) else {
            throw SinkError("dataplane.table '\(settings.table)' is not a valid nftables table name")
        }
        self.settings = settings
        definition = TableDefinition(
            table: settings.table, mark: settings.mark, recentTimeoutSeconds: max(1, Int(bidirectionalWindowSeconds.rounded(.up))),
            maxRecentPeers: settings.maxRecentPeers)
        self.logger = logger
        self.events = events
        reader = try KernelReader(table: settings.table)
        thread = ThreadState()
    }

    // MARK: The pipeline thread

    /// Replaces the table, in one transaction, with one built from the restored state.
    public func start(from state: PersistedState) throws(SinkError) {
        thread.context = try NFTContext()
        thread.writer = try KernelWriter(table: settings.table)
        // A table from before (a restart, a crash) goes on deciding packets while the other
        // generation is loaded.
        if (try? reader.counter(Generation.a.marker)) != nil {
            inUse.withLock { $0 = .a }
        } else if (try? reader.counter(Generation.b.marker)) != nil {
            inUse.withLock { $0 = .b }
        } else {
            inUse.withLock { $0 = .b }
        }
        var binds: [BindID: TableBind] = [:]
        binds.reserveCapacity(state.binds.count)
        for bind in state.binds { binds[bind.id] = TableBind(bind) }
        var filters: [String: IPRangeSet] = [:]
        for filter in state.filters { filters[filter.id] = filter.ranges }
        let started = ContinuousClock.now
        do {
            try load(binds: binds, filters: filters)
        } catch {
            let hint = error.message.contains("Operation not permitted")
                ? " (the nftables data plane needs CAP_NET_ADMIN: run as root, or under systemd install "
                    + "deploy/fwsessiond-dataplane.conf as a drop-in of the unit)" : ""
            throw SinkError("cannot load the nftables table inet \(settings.table): \(error.message)\(hint)")
        }
        thread.mirror = DataPlaneMirror(binds: binds, filters: filters)
        logger.notice(
            "dataplane.loaded table inet \(settings.table)",
            metadata: ["binds": "\(binds.count)", "seconds": "\(Self.seconds(ContinuousClock.now - started))"])
        events?(.loaded(binds: binds.count, duration: ContinuousClock.now - started))
    }

    /// One batch of changes: one transaction of element deletions and additions.
    public func apply(_ changes: [StateChange]) throws(SinkError) {
        let delta = DataPlaneDelta(changes, mirror: thread.mirror)
        guard !delta.isEmpty else { return }
        if thread.needsFullLoad {
            // The last transaction failed: the kernel may differ from the mirror in ways a delta
            // cannot mend, so the whole table is loaded again (atomically) with this batch in it.
            let (binds, filters) = thread.mirror.applying(delta)
            try load(binds: binds, filters: filters)
            thread.mirror.commit(delta)
            thread.needsFullLoad = false
            events?(.repaired(reason: "after a failed transaction"))
            return
        }
        let (deletions, additions) = delta.operations(mirror: thread.mirror)
        do {
            try writer().apply(deleting: deletions, adding: additions, in: inUse.withLock { $0 })
        } catch {
            thread.needsFullLoad = true
            throw error
        }
        thread.mirror.commit(delta)
        if !delta.forgetRecentPeers.isEmpty {
            forget(
                recentPeersOf: delta.forgetRecentPeers, context: try context(), reader: reader, table: settings.table,
                generation: inUse.withLock { $0 })
        }
    }

    /// Between batches, once a second: repairs a table deleted or flushed by hand, and reads a
    /// share of the binds' counters back into the state.
    public func maintain() {
        do {
            if let problem = try healthProblem() {
                logger.warning("dataplane.repair: \(problem); loading the table again", metadata: ["table": "\(settings.table)"])
                try load(binds: thread.mirror.binds, filters: thread.mirror.filters)
                thread.needsFullLoad = false
                events?(.repaired(reason: problem))
            }
        } catch {
            logger.error("dataplane.repair failed; will retry", metadata: ["error": "\(error.message)"])
        }
        harvestCounters()
    }

    /// On a clean shutdown: keeps the table (approved flows survive an upgrade) or removes it.
    public func finish() {
        guard settings.onShutdown == .remove, let context = thread.context else { return }
        do {
            try context.run("table inet \(settings.table) {}\ndelete table inet \(settings.table)\n")
            logger.notice("dataplane.removed table inet \(settings.table)")
        } catch {
            logger.error("dataplane.remove failed", metadata: ["error": "\(error.message)"])
        }
    }

    private func writer() throws(SinkError) -> KernelWriter {
        guard let writer = thread.writer else { throw SinkError("the data plane was not started") }
        return writer
    }

    private func context() throws(SinkError) -> NFTContext {
        guard let context = thread.context else { throw SinkError("the data plane was not started") }
        return context
    }

    /// Loads the whole table: the unused generation is created and filled a batch at a time while
    /// the one in use goes on deciding, then one transaction switches the base chains to it and
    /// deletes the old one. Recent peers (kernel-filled) start empty, as they do in the state after
    /// a restart.
    private func load(binds: [BindID: TableBind], filters: [String: IPRangeSet]) throws(SinkError) {
        let context = try context()
        let writer = try writer()
        let next = inUse.withLock { $0 }.other
        try context.run(definition.skeleton + definition.creation(next))
        var batch: [ElementOperation] = []
        batch.reserveCapacity(Self.loadBatch + 64)
        for bind in binds.values {
            for element in bind.elements(storedFilters: filters) {
                var operation = ElementOperation(element)
                operation.packets = bind.startingPackets(for: element.kind)
                batch.append(operation)
            }
            if batch.count >= Self.loadBatch {
                batch.sort { $0.element.setOrder < $1.element.setOrder }
                try writer.apply(deleting: [], adding: batch, in: next)
                batch.removeAll(keepingCapacity: true)
            }
        }
        batch.sort { $0.element.setOrder < $1.element.setOrder }
        try writer.apply(deleting: [], adding: batch, in: next)
        try context.run(definition.switchTo(next))
        inUse.withLock { $0 = next }
    }

    /// Why the table no longer is what was loaded, if it is not.
    private func healthProblem() throws(SinkError) -> String? {
        guard try reader.tableExists() else { return "table inet \(settings.table) is missing" }
        let generation = inUse.withLock { $0 }
        for chain in definition.baseChains(generation) where try reader.ruleCount(chain: chain.name) != 1 {
            return "chain \(chain.name) does not hold its rule"
        }
        for chain in definition.chains(generation) where try reader.ruleCount(chain: chain.name) != chain.rules.count {
            return "chain \(chain.name) does not hold its \(chain.rules.count) rules"
        }
        for group in SetGroup.allCases {
            for kind in [SetKind.bound, .drop, .open, .bidir] {
                let set = generation.set(kind, group)
                let found = try reader.counters(of: [(set, TableDefinition.sentinelBytes(in: group))], keyLength: group.keyLength)
                if found.first.flatMap({ $0 }) == nil { return "set \(set) was flushed" }
            }
        }
        return nil
    }

    /// Reads the next share of binds' counters (all binds in turn) and hands them to the state.
    private func harvestCounters() {
        guard let observer = observer.withLock({ $0 }) else { return }
        if thread.harvestQueue.isEmpty { thread.harvestQueue = Array(thread.mirror.binds.keys) }
        let take = min(settings.countersPerSecond, thread.harvestQueue.count)
        guard take > 0 else { return }
        let ids = thread.harvestQueue.suffix(take)
        thread.harvestQueue.removeLast(take)
        let keys = ids.compactMap { id in thread.mirror.binds[id].map { (id, $0.key) } }
        guard let read = try? readCounters(keys) else { return }
        var changed: [BindCounters] = []
        for counters in read.values {
            guard var bind = thread.mirror.binds[counters.bindID] else { continue }
            if bind.accepted != counters.accepted || bind.discarded != counters.discarded {
                bind.accepted = counters.accepted
                bind.discarded = counters.discarded
                thread.mirror.binds[counters.bindID] = bind
                changed.append(counters)
            }
        }
        if !changed.isEmpty { observer(changed) }
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(Double(seconds) + Double(attoseconds) / 1e18)
    }

    // MARK: Counters (any thread)

    public func counters(of binds: [Bind]) -> [BindID: BindCounters] {
        (try? readCounters(binds.map { ($0.id, BindKey($0)) })) ?? [:]
    }

    public func totals() -> (accepted: UInt64, discarded: UInt64)? {
        guard let accepted = try? reader.counter("accepted"), let discarded = try? reader.counter("discarded") else { return nil }
        return (accepted, discarded)
    }

    public func observeCounters(_ observer: @escaping @Sendable ([BindCounters]) -> Void) {
        self.observer.withLock { $0 = observer }
    }

    /// Each bind's packets (its `bound` element) and discards (its `drop` element); accepted is
    /// the difference.
    private func readCounters(_ binds: [(BindID, BindKey)]) throws(SinkError) -> [BindID: BindCounters] {
        var result: [BindID: BindCounters] = [:]
        var byGroup: [SetGroup: [(BindID, BindKey)]] = [:]
        for bind in binds { byGroup[bind.1.group, default: []].append(bind) }
        let generation = inUse.withLock { $0 }
        for (group, members) in byGroup {
            // Both counters of every bind in one write: (bound, drop), (bound, drop), ...
            let asked = members.flatMap { member in
                [(generation.set(.bound, group), member.1.bytes), (generation.set(.drop, group), member.1.bytes)]
            }
            let read = try reader.counters(of: asked, keyLength: group.keyLength)
            for (index, member) in members.enumerated() {
                guard let total = read[2 * index], let dropped = read[2 * index + 1] else { continue }
                result[member.0] = BindCounters(
                    bindID: member.0, accepted: total.packets &- min(total.packets, dropped.packets), discarded: dropped.packets)
            }
        }
        return result
    }
}

/// What the data plane reports for metrics and logs.
public enum DataPlaneEvent: Sendable {
    /// The table was loaded at start.
    case loaded(binds: Int, duration: Duration)
    /// The table was loaded again because it was not what fwsessiond had put there.
    case repaired(reason: String)
}

/// State only the pipeline's data plane thread touches.
private final class ThreadState: @unchecked Sendable {
    // @unchecked: read and written only on the data plane's pipeline thread (start, apply,
    // maintain and finish run there, one at a time).
    var context: NFTContext?
    var writer: KernelWriter?
    var mirror = DataPlaneMirror(binds: [:], filters: [:])
    var needsFullLoad = false
    var harvestQueue: [BindID] = []
}
