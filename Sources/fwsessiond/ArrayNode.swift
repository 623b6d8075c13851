import FirewallPersistence
import FirewallPipeline
import FirewallService
import FirewallSessions
import Logging
import Synchronization

/// This process as one node of an array on PostgreSQL: the store sink, the request-time client
/// (claims, shared policy) and the monitor, wired to the service. What the monitor learns enters
/// the state through the service's `array…` entry points, on the store actor, so it produces the
/// same changes and events a local change would.
final class ArrayNode: ArrayMembership, ArrayMonitorDelegate {
    let settings: PostgreSQLArraySettings
    let backend: PostgreSQLBackend
    private let client: PostgreSQLArrayClient
    private let logger: Logger
    private let service = Mutex<FirewallService?>(nil)
    private let monitor = Mutex<PostgreSQLArrayMonitor?>(nil)

    /// Joins the array: schema, shard and epoch, then this node's state and the shared policy.
    static func open(_ configuration: ArrayConfiguration, logger: Logger) throws -> (node: ArrayNode, restored: PersistedState) {
        guard let url = configuration.url, let nodeID = configuration.nodeID, let advertiseURL = configuration.advertiseURL else {
            throw PersistenceError(configuration.problem ?? "incomplete array configuration")
        }
        var settings = PostgreSQLArraySettings(url: url, nodeID: nodeID, advertiseURL: advertiseURL)
        settings.leaseSeconds = configuration.leaseSeconds
        let backend = try PostgreSQLBackend(settings: settings)
        let restored = try backend.load()
        let node = ArrayNode(settings: settings, backend: backend, logger: logger)
        logger.notice(
            "array.joined",
            metadata: [
                "node": "\(nodeID)", "epoch": "\(backend.standing.epoch)", "sessions": "\(restored.sessions.count)",
                "binds": "\(restored.binds.count)", "policy.version": "\(restored.metadata?.policyVersion ?? 1)",
            ])
        return (node, restored)
    }

    private init(settings: PostgreSQLArraySettings, backend: PostgreSQLBackend, logger: Logger) {
        self.settings = settings
        self.backend = backend
        self.logger = logger
        client = PostgreSQLArrayClient(settings: settings, standing: backend.standing)
    }

    /// Gives the service its first id block and policy revision, then starts the monitor.
    func start(_ service: FirewallService) async throws {
        self.service.withLock { $0 = service }
        let block = try backend.allocateBlock()
        await service.joinArray(block: block, policyRevision: backend.loadedPolicy?.revision ?? 0)
        let monitor = PostgreSQLArrayMonitor(settings: settings, standing: backend.standing, delegate: self, logger: logger)
        self.monitor.withLock { $0 = monitor }
        monitor.start()
    }

    /// Stops the monitor and the workers.
    func stop() {
        monitor.withLock { $0 }?.stop()
        client.close()
    }

    private var current: FirewallService? { service.withLock { $0 } }

    // MARK: ArrayMembership

    var nodeID: String { settings.nodeID }

    var failure: String? { backend.standing.failure }

    func claimSession(_ id: String) async throws(FirewallError) -> Bool {
        do {
            return try await client.claimSession(id) == nil
        } catch {
            throw unavailable(error)
        }
    }

    func releaseSession(_ id: String) async { await client.releaseSession(id) }

    func claimAddress(_ transport: TransportProtocol, _ address: SocketAddress, bindID: BindID, sessionID: String) async
        throws(FirewallError) -> BindReference?
    {
        do {
            return try await client.claimAddress(transport, address, bindID: bindID, sessionID: sessionID)
        } catch {
            throw unavailable(error)
        }
    }

    func releaseAddress(bindID: BindID) async { await client.releaseAddress(bindID: bindID) }

    func changePolicy(
        catchUp: @escaping @Sendable (SharedPolicy) async -> Void,
        propose: @escaping @Sendable () async -> Result<PolicyProposal, FirewallError>
    ) async throws(FirewallError) -> SharedPolicy {
        let service = current
        let result = await client.changePolicy(
            appliedRevision: { blockingAwait { await service?.appliedPolicyRevision ?? 0 } },
            catchUp: { policy in blockingAwait { await catchUp(policy) } },
            compute: { blockingAwait { await propose() } })
        switch result {
        case .success(let policy): return policy
        case .failure(.refused(let error)): throw error
        case .failure(.store(let error)): throw unavailable(error)
        }
    }

    /// A PostgreSQL failure as the 503 a caller gets.
    private func unavailable(_ error: PostgreSQLError) -> FirewallError {
        let message = backend.standing.isFenced ? (backend.standing.failure ?? error.message) : "PostgreSQL: \(error.message)"
        return FirewallError.unavailable(PipelineFailure(sink: "store", message: message))
    }

    // MARK: ArrayMonitorDelegate (on the monitor's thread)

    var appliedPolicyRevision: Int64 {
        let service = current
        return blockingAwait { await service?.appliedPolicyRevision ?? 0 }
    }

    func policyChanged(_ policy: SharedPolicy) {
        let service = current
        blockingAwait { await service?.applySharedPolicy(policy) }
        logger.info("array.policy applied", metadata: ["policy.version": "\(policy.version)", "policy.revision": "\(policy.revision)"])
    }

    func membersChanged(_ members: [ArrayMember]) {
        let service = current
        blockingAwait { await service?.arrayMembers(members) }
    }

    func mirror(shard: String, rows: ShardRows, replacing: Bool) {
        let service = current
        blockingAwait { await service?.mirror(shard: shard, rows: rows, replacing: replacing) }
    }

    func forgetShard(_ shard: String) {
        let service = current
        blockingAwait { await service?.forgetShard(shard) }
    }

    var needsSequenceBlock: Bool {
        let service = current
        return blockingAwait { await service?.needsSequenceBlock ?? false }
    }

    func addSequenceBlock(_ block: Range<UInt64>) {
        let service = current
        blockingAwait { await service?.addSequenceBlock(block) }
    }

    func adopted(shard: String, from holder: String, rows: ShardRows, block: Range<UInt64>) {
        let service = current
        let durable = blockingAwait { await service?.adopt(shard: shard, rows: rows, block: block) ?? false }
        if !durable {
            logger.error("array.adopted shard is not durable here yet; the store retries", metadata: ["shard": "\(shard)"])
        }
    }

    func fenced(_ reason: String) {
        let service = current
        blockingAwait { await service?.fence(reason) }
    }
}
