import MicroHTTPServer
import Testing

@Suite("Request and response round trips", .timeLimit(.minutes(1)))
struct RoundTripTests {
    @Test("GET keeps the raw path and query, undecoded")
    func getKeepsRawTarget() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let (encoded, plain, emptyQuery) = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("GET /sessions/a%20b/binds?x=1&y=%2F%3F HTTP/1.1\r\nHost: t\r\n\r\n")
                let encoded = try connection.readResponse()
                try connection.send("GET /plain HTTP/1.1\r\nHost: t\r\n\r\n")
                let plain = try connection.readResponse()
                try connection.send("GET /q? HTTP/1.1\r\nHost: t\r\n\r\n")
                return (encoded, plain, try connection.readResponse())
            }
            #expect(encoded.status == 200)
            #expect(encoded.header("X-Echo-Method") == "GET")
            #expect(encoded.header("X-Echo-Path") == "/sessions/a%20b/binds")
            #expect(encoded.header("X-Echo-Query") == "[x=1&y=%2F%3F]")
            #expect(plain.header("X-Echo-Path") == "/plain")
            #expect(plain.header("X-Echo-Query") == "<none>")
            #expect(emptyQuery.header("X-Echo-Path") == "/q")
            #expect(emptyQuery.header("X-Echo-Query") == "[]")
        }
    }

    @Test(
        "the request target is split at the first '?' and an absolute-form target loses scheme and host",
        arguments: [
            ("/a?b?c", "/a", "[b?c]"),
            ("/%3F?%3F", "/%3F", "[%3F]"),
            ("/a/b/", "/a/b/", "<none>"),
            ("http://example.com/abs%2Fx?q=%41", "/abs%2Fx", "[q=%41]"),
            ("http://example.com:8080?q", "/", "[q]"),
            ("HTTP://example.com", "/", "<none>"),
        ])
    func targetSplitting(target: String, path: String, query: String) async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("GET \(target) HTTP/1.1\r\nHost: t\r\n\r\n")
                return try connection.readResponse()
            }
            #expect(response.header("X-Echo-Path") == path)
            #expect(response.header("X-Echo-Query") == query)
        }
    }

    @Test("POST delivers the body and the method as sent")
    func postDeliversBody() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let body = #"{"ip":"10.0.0.1","ports":[80,443]}"#
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                return try connection.readResponse()
            }
            #expect(response.status == 200)
            #expect(response.header("X-Echo-Method") == "POST")
            #expect(response.bodyText == body)
        }
    }

    @Test("request headers are found whatever their case")
    func headersCaseInsensitive() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("GET /echo HTTP/1.1\r\nHost: t\r\nx-TeSt: MiXeD value\r\n\r\n")
                return try connection.readResponse()
            }
            #expect(response.header("X-Echo-Test") == "MiXeD value")
        }
    }

    @Test("the server adds Content-Length and Date, and passes the responder's headers and status")
    func responseFraming() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let (fixed, notFound) = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n")
                let fixed = try connection.readResponse()
                try connection.send("GET /status/404 HTTP/1.1\r\nHost: t\r\n\r\n")
                return (fixed, try connection.readResponse())
            }
            #expect(fixed.status == 200)
            #expect(fixed.bodyText == "hello world")
            #expect(fixed.header("Content-Length") == "11")
            #expect(fixed.header("Content-Type") == "text/plain")
            #expect(fixed.header("Date") != nil)
            #expect(notFound.status == 404)
            #expect(notFound.header("Content-Length") == "0")
        }
    }

    @Test("the remote address is the client's, as ip:port")
    func remoteAddress() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
                return try connection.readResponse()
            }
            let remote = try #require(response.header("X-Echo-Remote"))
            #expect(remote.hasPrefix("127.0.0.1:"))
            #expect(UInt16(remote.dropFirst("127.0.0.1:".count)) != nil)
        }
    }

    @Test("HEAD answers the headers of the body without sending it")
    func head() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let (head, get) = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("HEAD /fixed HTTP/1.1\r\nHost: t\r\n\r\n")
                let head = try connection.readResponse(bodyless: true)
                // Had a body followed the HEAD answer, this response would not parse.
                try connection.send("GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n")
                return (head, try connection.readResponse())
            }
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "11")
            #expect(get.status == 200)
            #expect(get.bodyText == "hello world")
        }
    }

    @Test("Expect: 100-continue gets 100, then the request is answered")
    func expectContinue() async throws {
        try await withTestServer { server, _ in
            let port = server.port
            let (interim, final) = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                let interim = try connection.readResponse()
                try connection.send("hello")
                return (interim, try connection.readResponse())
            }
            #expect(interim.status == 100)
            #expect(final.status == 200)
            #expect(final.header("X-Echo-Method") == "PUT")
            #expect(final.bodyText == "hello")
        }
    }
}
