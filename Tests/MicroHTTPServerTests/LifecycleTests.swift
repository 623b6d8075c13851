import Glibc
import MicroHTTPServer
import Synchronization
import Testing

@Suite("Server lifecycle", .timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test("shutdown lets the in-flight request finish, refuses new ones with 503, then stops")
    func gracefulShutdown() async throws {
        let responder = TestResponder()
        let server = HTTPServer(configuration: makeConfiguration(), responder: responder, logger: makeTestLogger())
        try server.start()
        let port = server.port
        defer { responder.gate.open() }

        let slow = try RawHTTPConnection(port: port)
        try await onOwnThread { try slow.send("GET /gate HTTP/1.1\r\nHost: t\r\n\r\n") }
        await responder.gate.waitForArrivals(1)
        #expect(server.inFlightRequests == 1)

        server.beginDraining()
        let shutdownReturned = Flag()
        let shutdown = Task {
            await server.shutdown()
            shutdownReturned.set()
        }

        let refused = try await onOwnThread {
            let connection = try RawHTTPConnection(port: port)
            try connection.send("GET /late HTTP/1.1\r\nHost: t\r\n\r\n")
            return try connection.readResponse()
        }
        #expect(refused.status == 503)
        #expect(refused.bodyText == "shutting down")
        #expect(refused.header("Connection")?.lowercased() == "close")
        #expect(responder.rejections == [.init(rejection: .shuttingDown, method: "GET", path: "/late")])
        #expect(!shutdownReturned.isSet, "shutdown must wait for the slow request")

        responder.gate.open()
        let slowResponse = try await onOwnThread { try slow.readResponse() }
        #expect(slowResponse.status == 200)
        #expect(slowResponse.bodyText == "released")

        await shutdown.value
        #expect(server.inFlightRequests == 0)
        #expect(throws: RawHTTPError.self, "nothing listens after shutdown") {
            _ = try RawHTTPConnection(port: port)
        }
    }

    @Test("shutdown is idempotent, also before start and when called concurrently")
    func shutdownIdempotent() async throws {
        let never = HTTPServer(configuration: makeConfiguration(), responder: TestResponder(), logger: makeTestLogger())
        await never.shutdown()
        await never.shutdown()
        #expect(throws: HTTPServerError.self) { try never.start() }

        let server = HTTPServer(configuration: makeConfiguration(), responder: TestResponder(), logger: makeTestLogger())
        try server.start()
        async let first: Void = server.shutdown()
        async let second: Void = server.shutdown()
        _ = await (first, second)
        await server.shutdown()
    }

    @Test("starting on a port another server holds throws an error naming the address")
    func portInUse() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let second = HTTPServer(
                configuration: makeConfiguration { $0.port = port }, responder: TestResponder(), logger: makeTestLogger())
            let error = #expect(throws: HTTPServerError.self) { try second.start() }
            #expect(error?.description.contains("127.0.0.1:\(port)") == true)
            await second.shutdown()
        }
    }

    @Test("a restart binds the same port while the old server's closed connections are in TIME_WAIT")
    func restartOnSamePort() async throws {
        let port = try await withTestServer { server, _ in
            let port = server.port
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                // Connection: close makes the server close first, leaving its side in TIME_WAIT.
                try connection.send("GET /fixed HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                let response = try connection.readResponse()
                _ = connection.waitForClose()
                return response
            }
            #expect(response.status == 200)
            return port
        }
        try await withTestServer({ $0.port = port }) { server, _ in
            #expect(server.port == port)
        }
    }

    @Test("a host that is not an IP literal is refused with a clear error", arguments: ["localhost", "1.2.3", ""])
    func invalidHost(host: String) async throws {
        let server = HTTPServer(
            configuration: makeConfiguration { $0.host = host }, responder: TestResponder(), logger: makeTestLogger())
        let error = #expect(throws: HTTPServerError.self) { try server.start() }
        #expect(error?.description.contains("invalid HTTP listen host") == true)
    }

    @Test("an invalid configuration is refused before reaching libmicrohttpd")
    func invalidConfiguration() async throws {
        let server = HTTPServer(
            configuration: makeConfiguration { $0.maxBodyBytes = -1 }, responder: TestResponder(), logger: makeTestLogger())
        #expect(throws: HTTPServerError.self) { try server.start() }
    }

    @Test("IPv6 loopback works", .enabled(if: hasIPv6Loopback(), "this machine has no IPv6 loopback (::1)"))
    func ipv6Loopback() async throws {
        try await withTestServer({ $0.host = "::1" }) { server, _ in
            let port = server.port
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(host: "::1", port: port)
                try connection.send("GET /v6?x=1 HTTP/1.1\r\nHost: [::1]\r\n\r\n")
                return try connection.readResponse()
            }
            #expect(response.status == 200)
            #expect(response.header("X-Echo-Query") == "[x=1]")
            #expect(response.header("X-Echo-Remote")?.hasPrefix("[::1]:") == true)
        }
    }
}

/// Whether a socket can bind ::1 here (containers often run without IPv6).
func hasIPv6Loopback() -> Bool {
    let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in6()
    address.sin6_family = sa_family_t(AF_INET6)
    address.sin6_addr = in6addr_loopback
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
    } == 0
}

/// A one-way boolean shared with a task.
final class Flag: Sendable {
    private let value = Atomic(false)

    func set() { value.store(true, ordering: .releasing) }

    var isSet: Bool { value.load(ordering: .acquiring) }
}
