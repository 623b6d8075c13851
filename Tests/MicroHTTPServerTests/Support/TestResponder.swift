import MicroHTTPServer
import Synchronization

/// The application the tests run behind the server.
///
/// - `/gate...` waits at ``gate`` and answers 200 "released";
/// - `/fixed` answers 200 "hello world";
/// - `/status/N` answers status N;
/// - anything else echoes: the request body as the body, and what the server parsed in
///   `X-Echo-*` headers (method, path, query in brackets or `<none>`, the `X-Test` header, remote
///   address). The brackets are there because libmicrohttpd refuses empty header values.
///
/// Rejections answer 413 or 503 with a body naming the rejection, and are recorded.
final class TestResponder: HTTPResponder {
    /// One call of ``reject(_:method:path:)``.
    struct Rejection: Equatable {
        var rejection: HTTPRejection
        var method: String
        var path: String
    }

    let gate = Gate()
    private let recordedRejections = Mutex<[Rejection]>([])

    /// The rejections so far, in order.
    var rejections: [Rejection] { recordedRejections.withLock { $0 } }

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        if request.path.hasPrefix("/gate") {
            await gate.pass()
            return HTTPResponse(status: 200, body: Array("released".utf8))
        }
        if request.path == "/fixed" {
            return HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "text/plain")]), body: Array("hello world".utf8))
        }
        if request.path.hasPrefix("/status/"), let status = Int(request.path.dropFirst("/status/".count)) {
            return HTTPResponse(status: status)
        }
        var headers = HTTPHeaders()
        headers.add(name: "X-Echo-Method", value: request.method)
        headers.add(name: "X-Echo-Path", value: request.path)
        headers.add(name: "X-Echo-Query", value: request.query.map { "[\($0)]" } ?? "<none>")
        headers.add(name: "X-Echo-Test", value: request.headers["x-test"] ?? "<none>")
        headers.add(name: "X-Echo-Remote", value: request.remoteAddress ?? "<none>")
        return HTTPResponse(status: 200, headers: headers, body: request.body)
    }

    func reject(_ rejection: HTTPRejection, method: String, path: String) -> HTTPResponse {
        recordedRejections.withLock { $0.append(Rejection(rejection: rejection, method: method, path: path)) }
        switch rejection {
        case .bodyTooLarge(let limit):
            return HTTPResponse(status: 413, body: Array("too large, limit \(limit)".utf8))
        case .shuttingDown:
            return HTTPResponse(status: 503, body: Array("shutting down".utf8))
        case .clientCertificateRejected:
            return HTTPResponse(status: 403, body: Array("client certificate rejected".utf8))
        case .requestTargetTooLong(let limit):
            return HTTPResponse(status: 414, body: Array("target too long, limit \(limit)".utf8))
        case .headerFieldsTooLarge(let limit):
            return HTTPResponse(status: 431, body: Array("headers too large, limit \(limit)".utf8))
        }
    }
}
