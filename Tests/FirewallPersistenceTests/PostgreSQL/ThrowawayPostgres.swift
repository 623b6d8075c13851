import Foundation
import Synchronization

@testable import FirewallPersistence

/// One throwaway PostgreSQL server for the whole test run (the Swift twin of
/// `Tests/integration/postgres.py`): initdb into a temporary folder, started on a free loopback
/// port (as the `postgres` user when running as root, which PostgreSQL requires), stopped and
/// deleted when the test process exits. Each test takes a database of its own, so tests run in
/// parallel without seeing each other. Missing PostgreSQL binaries fail the tests: `make test`
/// installs them.
final class ThrowawayPostgres: Sendable {
    let root: String
    let port: Int
    let binaries: String
    private let databases = Atomic<Int>(0)

    /// The server, started on first use.
    static let shared: Result<ThrowawayPostgres, PostgresStartFailure> = Result { () throws(PostgresStartFailure) in
        try ThrowawayPostgres()
    }

    /// A fresh, empty database on the shared server: its libpq URL.
    static func database() throws -> String {
        let server = try shared.get()
        let name = "t_\(server.databases.add(1, ordering: .relaxed).newValue)_\(getpid())"
        try server.admin { connection throws(PostgreSQLError) in try connection.execute("CREATE DATABASE \(name)") }
        return server.url(name)
    }

    func url(_ database: String) -> String { "postgresql://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable" }

    /// Runs `body` on a connection to the maintenance database.
    func admin<T>(_ body: (PGConnection) throws(PostgreSQLError) -> T) throws -> T {
        let connection = try PGConnection(url: url("postgres"), role: "fwsessiond-test-admin")
        defer { connection.close() }
        return try body(connection)
    }

    private init() throws(PostgresStartFailure) {
        let found = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().last
        guard let version = found, FileManager.default.fileExists(atPath: "/usr/lib/postgresql/\(version)/bin/pg_ctl") else {
            throw PostgresStartFailure("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): run `make deps`")
        }
        binaries = "/usr/lib/postgresql/\(version)/bin"
        var template = Array("/tmp/fws-pg-swift-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw PostgresStartFailure("mkdtemp failed")
        }
        root = String(cString: made)
        chmod(root, 0o755)
        if getuid() == 0, let entry = getpwnam("postgres") { chown(root, entry.pointee.pw_uid, entry.pointee.pw_gid) }
        let data = root + "/data"
        try Self.run(Self.asPostgres([binaries + "/initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-E", "UTF8", "-D", data]))
        var started: Int?
        for _ in 0..<5 {
            let port = Self.freePort()
            let options = "-c listen_addresses=127.0.0.1 -k \(root) -p \(port) -c fsync=off -c max_connections=200 -c shared_buffers=32MB"
            if (try? Self.run(Self.asPostgres([binaries + "/pg_ctl", "-D", data, "-o", options, "-l", root + "/postgres.log", "-w", "-t", "120", "start"]))) != nil {
                started = port
                break
            }
        }
        guard let started else { throw PostgresStartFailure("pg_ctl start failed; see \(root)/postgres.log") }
        port = started
        throwawayPostgresToStop.withLock { $0 = (binaries, root) }
        atexit {
            guard let (binaries, root) = throwawayPostgresToStop.withLock({ $0 }) else { return }
            _ = try? ThrowawayPostgres.run(ThrowawayPostgres.asPostgres([binaries + "/pg_ctl", "-D", root + "/data", "-m", "immediate", "-w", "stop"]))
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    static func asPostgres(_ argv: [String]) -> [String] { getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + argv : argv }

    /// Runs a command to its end (posix_spawn and waitpid: Foundation's `Process` can miss the
    /// exit of a child when waited for from a test's thread).
    static func run(_ argv: [String]) throws(PostgresStartFailure) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = argv.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, arguments, environ)
        guard spawned == 0 else { throw PostgresStartFailure("\(argv[0]): posix_spawn failed (\(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else { throw PostgresStartFailure("\(argv.joined(separator: " ")) failed (wait status \(status))") }
    }

    static func freePort() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 ? getsockname(descriptor, generic, &length) : -1
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// What the process stops at exit.
private let throwawayPostgresToStop = Mutex<(String, String)?>(nil)

/// Why the throwaway server did not start.
struct PostgresStartFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
