import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import FirewallPersistence

/// `PGConnection` against a throwaway PostgreSQL.
@Suite("PostgreSQL connection")
struct PGConnectionTests {
    static let addOne = PGStatement(prepared: "fws_test_add_one", "SELECT $1::int + 1", ["41"])

    @Test("a statement prepared in a pipeline that failed afterwards stays known: the next pipeline only executes it")
    func preparedBeforeAFailure() throws {
        let connection = try PGConnection(url: try ThrowawayPostgres.database(), role: "fwsessiond-test")
        let error = #expect(throws: PostgreSQLError.self) {
            try connection.pipeline([PGStatement("BEGIN"), Self.addOne, PGStatement("SELECT 1 / 0"), PGStatement("COMMIT")])
        }
        #expect(error?.sqlState == "22012" && error?.connectionBroken == false)
        connection.rollbackIfNeeded()
        // The server kept the prepared statement: preparing it again would fail with 42P05.
        let rows = try connection.pipeline([PGStatement("BEGIN"), Self.addOne, PGStatement("COMMIT")])
        #expect(rows[1].scalar == "42")
    }

    @Test("a prepare skipped after an earlier failure in its pipeline is sent again next time")
    func preparedAfterAFailure() throws {
        let connection = try PGConnection(url: try ThrowawayPostgres.database(), role: "fwsessiond-test")
        #expect(throws: PostgreSQLError.self) {
            try connection.pipeline([PGStatement("BEGIN"), PGStatement("SELECT 1 / 0"), Self.addOne, PGStatement("COMMIT")])
        }
        connection.rollbackIfNeeded()
        let rows = try connection.pipeline([PGStatement("BEGIN"), Self.addOne, PGStatement("COMMIT")])
        #expect(rows[1].scalar == "42")
    }

    @Test("a prepare that itself fails is not recorded, and the connection stays usable")
    func failedPrepare() throws {
        let connection = try PGConnection(url: try ThrowawayPostgres.database(), role: "fwsessiond-test")
        let broken = PGStatement(prepared: "fws_test_broken", "SELECT FROM nowhere_at_all WHERE $1::int = 1", ["1"])
        #expect(throws: PostgreSQLError.self) { try connection.pipeline([broken]) }
        #expect(throws: PostgreSQLError.self) { try connection.pipeline([broken]) }
        #expect(try connection.pipeline([Self.addOne])[0].scalar == "42")
    }

    @Test("a server that stops answering (its process stopped, its host still acknowledging TCP) is given up after the result timeout")
    func silentServerIsGivenUp() throws {
        let connection = try PGConnection(url: try ThrowawayPostgres.database(), role: "fwsessiond-test", resultTimeoutSeconds: 1)
        let backend = connection.backendPID
        #expect(backend > 0)
        kill(backend, SIGSTOP)
        defer {
            kill(backend, SIGCONT)
            kill(backend, SIGTERM)
        }
        let started = ArraySQL.monotonicSeconds()
        // Used by the job's thread only until it ends.
        nonisolated(unsafe) let handed = connection
        let job = BackgroundJob { () throws(PostgreSQLError) in try handed.query("SELECT 1").scalar }
        let deadline = ArraySQL.monotonicSeconds() + 10
        while !job.isDone, ArraySQL.monotonicSeconds() < deadline { usleep(50_000) }
        guard job.isDone else {
            Issue.record("the query still waits for the stopped server after 10 s")
            kill(backend, SIGCONT)
            _ = job.wait()
            return
        }
        guard case .failure(let error) = job.wait() else {
            Issue.record("the stopped server answered")
            return
        }
        #expect(error.connectionBroken)
        #expect(ArraySQL.monotonicSeconds() - started < 5)
        #expect(!connection.isOpen)
    }
}
