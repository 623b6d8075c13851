import Testing

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
}
