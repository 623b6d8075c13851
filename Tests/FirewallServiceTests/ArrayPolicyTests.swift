import FirewallPipeline
import FirewallSessions
import Synchronization
import Testing

@testable import FirewallService

/// Shared-policy changes of an array node, over a stand-in for the array.
@Suite("Array policy changes in the service")
struct ArrayPolicyTests {
    /// An array that commits every change and whose monitor applies the committed revision on
    /// this node before the change's caller gets to (a notification that came in first).
    final class MonitorFirstArray: ArrayMembership {
        var nodeID: String { "a" }
        var failure: String? { nil }
        func claimSession(_ id: String) async throws(FirewallError) -> Bool { true }
        func releaseSession(_ id: String) async {}
        func claimAddress(_ transport: TransportProtocol, _ address: SocketAddress, bindID: BindID, sessionID: String) async
            throws(FirewallError) -> BindReference?
        { nil }
        func releaseAddress(bindID: BindID) async {}

        func changePolicy(
            catchUp: @escaping @Sendable (SharedPolicy) async -> Void,
            propose: @escaping @Sendable () async -> Result<PolicyProposal, FirewallError>
        ) async throws(FirewallError) -> SharedPolicy {
            var committed: SharedPolicy
            switch await propose() {
            case .success(let proposal): committed = proposal.after
            case .failure(let refusal): throw refusal
            }
            committed.revision += 1
            // The monitor's path: the same entry point, with the committed policy.
            await catchUp(committed)
            return committed
        }
    }

    @Test("a policy change is answered only once this node's changes are durable, also when the monitor applied it first")
    func answeredAfterDurableWhenMonitorWasFirst() async throws {
        let kernel = FirewallServiceTests.SwitchableSink()
        let service = FirewallService(sinks: [kernel], logger: FirewallServiceTests.logger, array: MonitorFirstArray())
        try await service.start()
        kernel.failing.store(true, ordering: .relaxed)
        do {
            _ = try await service.createRule(RuleSpec(name: "late", action: .allow, protocols: .any, users: [AccessRule.allUsers]), ifMatch: nil)
            Issue.record("the change was acknowledged although the sink refused it")
        } catch {
            #expect(error.hresult == .ERROR_WRITE_FAULT, "\(error)")
        }
        kernel.failing.store(false, ordering: .relaxed)
        await service.close()
    }

    /// A sink after the store that keeps every batch it was given.
    final class RecordingSink: ChangeSink {
        let batches = Mutex<[[StateChange]]>([])
        var name: String { "dataplane" }
        func apply(_ changes: [StateChange]) throws(SinkError) { batches.withLock { $0.append(changes) } }
    }

    @Test("a fenced node hands its binds over: the sinks after the store are told to drop them")
    func fenceHandsBindsOver() async throws {
        let kernel = RecordingSink()
        let service = FirewallService(sinks: [kernel], logger: FirewallServiceTests.logger, array: MonitorFirstArray())
        try await service.start()
        _ = try await service.createSession(NewSession(id: "s", clientAddress: IPAddress("10.0.0.1")!))
        let bind = try await service.createBind(sessionID: "s", transport: .udp, address: FirewallServiceTests.address)
        await service.fence("fenced: node 'b' adopted this node's sessions and binds")
        var handedOver: [BindID] = []
        for _ in 0..<200 where handedOver.isEmpty {
            handedOver = kernel.batches.withLock { $0 }.joined().compactMap { change -> [BindID]? in
                if case .bindsHandedOver(let ids) = change { ids } else { nil }
            }.joined().map { $0 }
            if handedOver.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(handedOver == [bind.id])
        await #expect(throws: FirewallError.self) { try await service.session("s") }
        await service.close()
    }
}
