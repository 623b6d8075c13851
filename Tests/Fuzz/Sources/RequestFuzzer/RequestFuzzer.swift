import Dispatch
import FirewallAPI
import FirewallService
import FirewallSessions
import Logging
import MicroHTTPServer

/// Sends arbitrary requests through the whole API (routing, query parsing, strict body decoding,
/// the domain) in process. Any 5xx answer or a crash is a finding: bad input must get a 4xx.
///
/// Input layout: byte 0 picks the route, byte 1 the path variant (valid ids or raw fuzz text),
/// and the rest is split at the first NUL into the query string and the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func requestFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let route = Harness.shared.routes[Int(bytes[0]) % Harness.shared.routes.count]
    let rest = Array(bytes[2...])
    let split = rest.firstIndex(of: 0) ?? rest.count
    let query = String(decoding: rest[..<split], as: UTF8.self)
    let body = split < rest.count ? Array(rest[(split + 1)...]) : []
    let path = bytes[1] % 4 == 0 ? Harness.fuzzedPath(route.template, query) : Harness.validPath(route.template)
    var headers = HTTPHeaders()
    headers.add(name: "Content-Type", value: bytes[1] % 8 == 7 ? "text/plain" : "application/json")
    let request = HTTPRequest(
        method: route.method, path: path, query: bytes[1] % 2 == 1 ? query : nil, headers: headers, body: body,
        remoteAddress: "127.0.0.1:1")
    let response = Harness.shared.respond(request)
    if response.status >= 500 {
        fatalError("\(route.method) \(path) answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
    }
    return 0
}

/// One in-memory server, reused across inputs.
final class Harness: Sendable {
    static let shared = Harness()

    let responder: APIResponder
    let routes: [Route]

    init() {
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        let settings = FirewallSettings()
        // No sinks: every change holds at once (as with --store memory), so inputs run fast.
        let service = FirewallService(settings: settings, logger: logger)
        routes = FirewallRoutes.make(service: service, settings: settings, metrics: FirewallMetrics(), events: EventHub(settings: EventStreamSettings()), audit: AuditLog(logger: logger))
        responder = APIResponder(routes: routes, logger: logger)
        _ = respond(HTTPRequest(
            method: "POST", path: "/sessions", query: nil,
            headers: HTTPHeaders([(name: "Content-Type", value: "application/json")]),
            body: Array(#"{"id": "s1", "clientAddress": "10.0.0.1"}"#.utf8), remoteAddress: nil))
    }

    /// Runs the async responder to completion from libFuzzer's (non-concurrency) thread.
    func respond(_ request: HTTPRequest) -> HTTPResponse {
        let done = DispatchSemaphore(value: 0)
        let box = ResponseBox()
        Task {
            box.response = await self.responder.respond(to: request)
            done.signal()
        }
        done.wait()
        return box.response ?? HTTPResponse(status: 599)
    }

    static func validPath(_ template: String) -> String {
        template.replacingParameters(["id": "s1", "bindId": "b-2", "guid": "477d0251-8a01-4895-9727-ba1370e17366"])
    }

    static func fuzzedPath(_ template: String, _ text: String) -> String {
        template.replacingParameters(["id": text, "bindId": text, "guid": text])
    }
}

/// Carries the response out of the task; the semaphore orders the write before the read.
final class ResponseBox: @unchecked Sendable {
    var response: HTTPResponse?
}

extension String {
    func replacingParameters(_ values: [String: String]) -> String {
        var result = self
        for (name, value) in values { result = result.replacingAll("{\(name)}", with: value) }
        return result
    }

    func replacingAll(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
