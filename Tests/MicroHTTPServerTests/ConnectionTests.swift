import MicroHTTPServer
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Connections", .timeLimit(.minutes(1)))
struct ConnectionTests {
    @Test("keep-alive: two requests on one connection")
    func keepAlive() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let (first, second) = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("GET /first HTTP/1.1\r\nHost: t\r\n\r\n")
                let first = try connection.readResponse()
                try connection.send("POST /second HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok")
                return (first, try connection.readResponse())
            }
            #expect(first.header("X-Echo-Path") == "/first")
            #expect(second.header("X-Echo-Path") == "/second")
            #expect(second.bodyText == "ok")
        }
    }

    @Test("pipelining: two requests in one write are answered in order")
    func pipelining() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let (first, second) = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send(
                    "POST /one HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                        + "GET /two?n=2 HTTP/1.1\r\nHost: t\r\n\r\n")
                return (try connection.readResponse(), try connection.readResponse())
            }
            #expect(first.header("X-Echo-Path") == "/one")
            #expect(first.bodyText == "abc")
            #expect(second.header("X-Echo-Path") == "/two")
            #expect(second.header("X-Echo-Query") == "[n=2]")
        }
    }

    @Test("200 requests over 50 concurrent connections are all answered correctly", arguments: [1, 2])
    func concurrentRequests(threadPoolSize: Int) async throws {
        try await withTestServer({ $0.threadPoolSize = threadPoolSize }) { server, _ in
            let port = server.port
            let mismatches = try await withThrowingTaskGroup(of: [String].self) { group in
                for client in 0..<50 {
                    group.addTask {
                        try await onOwnThread {
                            let connection = try RawHTTPConnection(port: port)
                            var mismatches: [String] = []
                            for request in 0..<4 {
                                let body = "client \(client) request \(request)"
                                try connection.send(
                                    "POST /c/\(client)/r/\(request) HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                                let response = try connection.readResponse()
                                if response.status != 200 || response.bodyText != body
                                    || response.header("X-Echo-Path") != "/c/\(client)/r/\(request)" {
                                    mismatches.append("\(client)/\(request): \(response.status) \(response.bodyText)")
                                }
                            }
                            return mismatches
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(mismatches == [])
        }
    }

    @Test("a client that disconnects mid-body does not stay in flight")
    func clientGoneMidBody() async throws {
        // With epoll, MHD may only learn of the close from the timeout: when the FIN arrives
        // with the data, one short read clears its read-ready flag and it never reads the EOF.
        // Either way the request must leave the in-flight count, or shutdown would wait forever.
        try await withTestServer({ $0.connectionTimeoutSeconds = 1 }) { server, _ in
            let port = server.port
            try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
            }
            #expect(try await inFlightDrops(server))
        }
    }

    @Test("a client that disconnects while its request is answered does not stay in flight", arguments: [0, 100])
    func clientGoneWhileSuspended(pauseMilliseconds: Int) async throws {
        try await withTestServer { server, responder in
            let port = server.port
            try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("GET /gate HTTP/1.1\r\nHost: t\r\n\r\n")
                usleep(UInt32(pauseMilliseconds * 1000))
            }
            await responder.gate.waitForArrivals(1)
            responder.gate.open()
            #expect(try await inFlightDrops(server))
        }
    }

    @Test("a client that half-closes after sending its request still gets the answer")
    func halfClosedClient() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n")
                connection.halfClose()
                return try connection.readResponse()
            }
            #expect(response.status == 200)
            #expect(response.bodyText == "hello world")
        }
    }

    /// Waits (bounded, generously) for the server to notice closed sockets, which MHD does on its
    /// own schedule.
    private func inFlightDrops(_ server: HTTPServer) async throws -> Bool {
        for _ in 0..<400 where server.inFlightRequests > 0 {
            try await Task.sleep(for: .milliseconds(25))
        }
        return server.inFlightRequests == 0
    }

    @Test("an idle connection with half a request is closed after connectionTimeoutSeconds")
    func slowClientTimesOut() async throws {
        try await withTestServer({ $0.connectionTimeoutSeconds = 1 }) { server, _ in
            let port = server.port
            let (closed, seconds) = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port, receiveTimeoutSeconds: 15)
                try connection.send("GET /echo HTTP/1.1\r\nHost: t\r\n")
                var start = timespec()
                clock_gettime(CLOCK_MONOTONIC, &start)
                let closed = connection.waitForClose()
                var end = timespec()
                clock_gettime(CLOCK_MONOTONIC, &end)
                return (closed, end.tv_sec - start.tv_sec)
            }
            #expect(closed)
            // Generous: the cut-off is 1 s; this only guards against "never".
            #expect(seconds < 10)
        }
    }
}
