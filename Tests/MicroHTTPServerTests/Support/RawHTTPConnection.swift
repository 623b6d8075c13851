import Glibc

/// A response as read off the wire by ``RawHTTPConnection``.
struct RawHTTPResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// The first header named `name`, ignoring case.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What can go wrong talking to the server.
struct RawHTTPError: Error, CustomStringConvertible {
    var description: String
}

/// A blocking TCP client that writes bytes exactly as given and parses HTTP/1.1 responses, so tests
/// control framing (pipelining, half requests, chunked bodies) that a real client library hides.
///
/// Blocking calls must not run on Swift's cooperative threads (there are only as many as cores,
/// and the server's responder tasks need them): use it inside ``onOwnThread(_:)``.
///
/// `@unchecked Sendable`: a test uses one connection from one step at a time, each step awaiting
/// the previous, so no two threads touch it at once.
final class RawHTTPConnection: @unchecked Sendable {
    private let socket: Int32
    private var buffer: [UInt8] = []

    /// Connects to `host` (an IPv4 or IPv6 literal) with a receive timeout, so a broken server
    /// fails the test instead of hanging it.
    init(host: String = "127.0.0.1", port: UInt16, receiveTimeoutSeconds: Int = 10) throws {
        var storage = sockaddr_storage()
        let length: socklen_t
        let family: Int32
        if host.contains(":") {
            family = AF_INET6
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            try withUnsafeMutableBytes(of: &storage) { raw in
                let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                address.pointee.sin6_family = sa_family_t(AF_INET6)
                address.pointee.sin6_port = port.bigEndian
                guard inet_pton(AF_INET6, host, &address.pointee.sin6_addr) == 1 else {
                    throw RawHTTPError(description: "bad IPv6 literal \(host)")
                }
            }
        } else {
            family = AF_INET
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            try withUnsafeMutableBytes(of: &storage) { raw in
                let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                address.pointee.sin_family = sa_family_t(AF_INET)
                address.pointee.sin_port = port.bigEndian
                guard inet_pton(AF_INET, host, &address.pointee.sin_addr) == 1 else {
                    throw RawHTTPError(description: "bad IPv4 literal \(host)")
                }
            }
        }
        socket = Glibc.socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RawHTTPError(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, length) }
        }
        guard connected == 0 else {
            let code = errno
            close(socket)
            throw RawHTTPError(description: "connect to \(host):\(port): errno \(code)")
        }
    }

    deinit {
        close(socket)
    }

    /// Sends `text` as UTF-8 in one write.
    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    /// Sends `bytes`, all of them.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw RawHTTPError(description: "send: errno \(errno)") }
            offset += sent
        }
    }

    /// Closes the sending side (TCP FIN) and keeps reading, as `nc -N` does.
    func halfClose() {
        shutdown(socket, Int32(SHUT_WR))
    }

    /// Reads one response. `bodyless` is for answers to HEAD, whose Content-Length sends no body.
    func readResponse(bodyless: Bool = false) throws -> RawHTTPResponse {
        let headEnd = try readUntil([13, 10, 13, 10])
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw RawHTTPError(description: "malformed status line in \(head)")
        }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
        }
        var response = RawHTTPResponse(status: status, headers: headers, body: [])
        if bodyless || status < 200 || status == 204 || status == 304 { return response }
        if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            response.body = try readChunkedBody()
        } else if let length = response.header("Content-Length").flatMap(Int.init) {
            try fill(atLeast: length)
            response.body = Array(buffer[..<length])
            buffer.removeFirst(length)
        } else {
            while try receiveMore() {}
            response.body = buffer
            buffer = []
        }
        return response
    }

    /// Reads until the server closes the connection (or resets it); false if it stays open past
    /// the receive timeout. Anything received meanwhile is discarded.
    func waitForClose() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let received = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if received == 0 { return true }
            if received < 0 { return errno == ECONNRESET }
        }
    }

    private func readChunkedBody() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let lineEnd = try readUntil([13, 10])
            let sizeText = String(decoding: buffer[..<lineEnd], as: UTF8.self).split(separator: ";")[0]
            buffer.removeFirst(lineEnd + 2)
            guard let size = Int(sizeText, radix: 16) else { throw RawHTTPError(description: "bad chunk size") }
            if size == 0 {
                _ = try readUntil([13, 10, 13, 10], orBareCRLF: true)
                return body
            }
            try fill(atLeast: size + 2)
            body += buffer[..<size]
            buffer.removeFirst(size + 2)
        }
    }

    /// The index where `marker` starts in the buffer, reading more as needed.
    private func readUntil(_ marker: [UInt8], orBareCRLF: Bool = false) throws -> Int {
        while true {
            if orBareCRLF, buffer.starts(with: [13, 10]) {
                buffer.removeFirst(2)
                return 0
            }
            if buffer.count >= marker.count {
                for start in 0...(buffer.count - marker.count) where buffer[start..<(start + marker.count)].elementsEqual(marker) {
                    return start
                }
            }
            guard try receiveMore() else { throw RawHTTPError(description: "connection closed mid-response") }
        }
    }

    private func fill(atLeast count: Int) throws {
        while buffer.count < count {
            guard try receiveMore() else { throw RawHTTPError(description: "connection closed mid-body") }
        }
    }

    /// Appends what the socket has; false at end of stream.
    private func receiveMore() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let received = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if received < 0 {
            throw RawHTTPError(description: errno == EAGAIN ? "receive timed out" : "recv: errno \(errno)")
        }
        buffer += chunk[..<received]
        return received > 0
    }
}
