import MicroHTTPServer
import Testing

@Suite("Body size limit", .timeLimit(.minutes(1)))
struct BodyLimitTests {
    static let limit = 1024

    @Test("a body exactly at the limit reaches the responder")
    func bodyAtLimitPasses() async throws {
        try await withTestServer({ $0.maxBodyBytes = Self.limit }) { server, responder in
            let port = server.port
            let body = String(repeating: "x", count: Self.limit)
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(Self.limit)\r\n\r\n\(body)")
                return try connection.readResponse()
            }
            #expect(response.status == 200)
            #expect(response.body.count == Self.limit)
            #expect(responder.rejections.isEmpty)
        }
    }

    @Test("a Content-Length over the limit is refused before any body byte is sent")
    func declaredLengthOverLimit() async throws {
        try await withTestServer({ $0.maxBodyBytes = Self.limit }) { server, responder in
            let port = server.port
            let (response, closed) = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                // Headers only: the answer must come without the server waiting for the body.
                try connection.send("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: \(Self.limit + 1)\r\n\r\n")
                let response = try connection.readResponse()
                return (response, connection.waitForClose())
            }
            #expect(response.status == 413)
            #expect(response.bodyText == "too large, limit \(Self.limit)")
            #expect(closed, "MHD closes a connection whose body it did not read")
            #expect(responder.rejections == [.init(rejection: .bodyTooLarge(limit: Self.limit), method: "POST", path: "/big")])
        }
    }

    @Test("with Expect: 100-continue, an oversized request gets 413 and no 100")
    func declaredLengthOverLimitWithExpect() async throws {
        try await withTestServer({ $0.maxBodyBytes = Self.limit }) { server, _ in
            let port = server.port
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send(
                    "PUT /big HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1000000000\r\n\r\n")
                return try connection.readResponse()
            }
            #expect(response.status == 413)
        }
    }

    @Test("a chunked body that grows past the limit gets 413")
    func chunkedOverLimit() async throws {
        try await withTestServer({ $0.maxBodyBytes = Self.limit }) { server, responder in
            let port = server.port
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
                let chunk = String(repeating: "y", count: 256)
                for _ in 0..<8 { try connection.send("100\r\n\(chunk)\r\n") }
                try connection.send("0\r\n\r\n")
                return try connection.readResponse()
            }
            #expect(response.status == 413)
            #expect(responder.rejections == [.init(rejection: .bodyTooLarge(limit: Self.limit), method: "POST", path: "/chunked")])
        }
    }

    @Test("a chunked body within the limit arrives whole")
    func chunkedWithinLimit() async throws {
        try await withTestServer({ $0.maxBodyBytes = Self.limit }) { server, _ in
            let port = server.port
            let response = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
                try connection.send("6\r\n world\r\n0\r\n\r\n")
                return try connection.readResponse()
            }
            #expect(response.status == 200)
            #expect(response.bodyText == "hello world")
        }
    }
}
