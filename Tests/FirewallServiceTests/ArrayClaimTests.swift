import FirewallPipeline
import FirewallSessions
import Synchronization
import Testing

@testable import FirewallService

/// The service as an array node, over a stand-in for the array: what happens to claims whose
/// answer never came.
@Suite("Array claims in the service")
struct ArrayClaimTests {
    /// An array whose claims fail (the connection broke while the claim's COMMIT was in flight,
    /// so it may have landed) and which records what was given back.
    final class LossyArray: ArrayMembership {
        let released = Mutex<[String]>([])
        let failClaims = Atomic<Bool>(true)
        /// While set, a claim of the session id waits until it is cleared.
        let holdClaims = Atomic<Bool>(false)

        var nodeID: String { "a" }
        var failure: String? { nil }

        func claimSession(_ id: String) async throws(FirewallError) -> Bool {
            while holdClaims.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(5)) }
            if failClaims.load(ordering: .relaxed) { throw FirewallError(.ERROR_WRITE_FAULT, "connection lost during COMMIT") }
            return true
        }

        func releaseSession(_ id: String) async { released.withLock { $0.append("session \(id)") } }

        func claimAddress(_ transport: TransportProtocol, _ address: SocketAddress, bindID: BindID, sessionID: String) async
            throws(FirewallError) -> BindReference?
        {
            if failClaims.load(ordering: .relaxed) { throw FirewallError(.ERROR_WRITE_FAULT, "connection lost during COMMIT") }
            return nil
        }

        func releaseAddress(bindID: BindID) async { released.withLock { $0.append("bind \(bindID.rawValue)") } }

        func changePolicy(
            catchUp: @escaping @Sendable (SharedPolicy) async -> Void,
            propose: @escaping @Sendable () async -> Result<PolicyProposal, FirewallError>
        ) async throws(FirewallError) -> SharedPolicy {
            throw FirewallError(.E_FAIL, "not in this test")
        }
    }

    @Test("a claim that failed is given back (it may have landed), for a session id and for an address")
    func failedClaimIsReleased() async throws {
        let array = LossyArray()
        let service = FirewallService(logger: FirewallServiceTests.logger, array: array)
        await #expect(throws: FirewallError.self) {
            try await service.createSession(NewSession(id: "lost", clientAddress: IPAddress("10.0.0.1")!))
        }
        #expect(array.released.withLock { $0 } == ["session lost"])
        array.failClaims.store(false, ordering: .relaxed)
        _ = try await service.createSession(NewSession(id: "kept", clientAddress: IPAddress("10.0.0.1")!))
        array.failClaims.store(true, ordering: .relaxed)
        await #expect(throws: FirewallError.self) {
            try await service.createBind(sessionID: "kept", transport: .udp, address: FirewallServiceTests.address)
        }
        let released = array.released.withLock { $0 }
        #expect(released.count == 2 && released[1].hasPrefix("bind "), "\(released)")
        await service.close()
    }

    @Test("while a session id is being claimed here, a second create of it is refused, so giving back one claim never gives back the other's")
    func concurrentCreateOfOneID() async throws {
        let array = LossyArray()
        array.failClaims.store(false, ordering: .relaxed)
        array.holdClaims.store(true, ordering: .relaxed)
        let service = FirewallService(logger: FirewallServiceTests.logger, array: array)
        let first = Task { try await service.createSession(NewSession(id: "twice", clientAddress: IPAddress("10.0.0.1")!)) }
        for _ in 0..<500 where await !service.store.array.claimingSessions.contains("twice") {
            try await Task.sleep(for: .milliseconds(5))
        }
        let secondDone = Atomic<Bool>(false)
        let second = Task {
            defer { secondDone.store(true, ordering: .relaxed) }
            return try await service.createSession(NewSession(id: "twice", clientAddress: IPAddress("10.0.0.2")!))
        }
        for _ in 0..<400 where !secondDone.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
        let answeredAtOnce = secondDone.load(ordering: .relaxed)
        #expect(answeredAtOnce, "the second create waited for the first one's claim")
        array.holdClaims.store(false, ordering: .relaxed)
        do {
            _ = try await second.value
            Issue.record("a second create of an id being claimed went ahead")
        } catch let error as FirewallError {
            #expect(error.hresult == .FWX_E_ALREADY_EXISTS)
        }
        #expect(try await first.value.clientAddress == IPAddress("10.0.0.1")!)
        #expect(array.released.withLock { $0 }.isEmpty)
        await service.close()
    }
}
