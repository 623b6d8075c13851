import FirewallService
import FirewallSessions
import Logging
import MicroHTTPServer
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The application behind the HTTP server: routes each request, checks the caller's token and
/// role, runs the handler, turns every failure into problem+json, and writes the access log.
public final class APIResponder: HTTPResponder {
    private let router: Router
    /// Replaced whole on a reload (SIGHUP): a request sees the old tokens or the new ones.
    private let authenticator: Mutex<Authenticator>
    /// Starts this process's request ids: the start time in seconds, base 36.
    private let idPrefix = String(UInt64(Timestamp.now().seconds), radix: 36)
    private let logger: Logger
    private let accessLog: Logger
    private let nextRequestID = Atomic<UInt64>(0)
    private let metrics: FirewallMetrics?

    /// Builds the responder over a route table.
    public init(
        routes: [Route], authenticator: Authenticator = Authenticator(tokens: []), metrics: FirewallMetrics? = nil,
        logger: Logger
    ) {
        router = Router(routes: routes)
        self.authenticator = Mutex(authenticator)
        self.metrics = metrics
        self.logger = logger
        var accessLog = logger
        accessLog[metadataKey: "log"] = "access"
        self.accessLog = accessLog
    }

    /// Takes new tokens (a reload); requests already past the token check keep their caller.
    public func replaceAuthenticator(_ authenticator: Authenticator) {
        self.authenticator.withLock { $0 = authenticator }
    }

    /// The routes served, for the contract test against openapi.yaml.
    public var routes: [Route] { router.routes }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let started = Self.monotonicSeconds()
        let requestID = Self.requestID(sentIn: request) ?? nextID()
        var route: Route?
        var principal: Principal?
        let answer: APIResponse
        do {
            let (matched, parameters) = try match(request)
            route = matched
            principal = try authorize(request, for: matched, caller: &principal)
            let query = try QueryParameters(request.query)
            try query.allowOnly(matched.queryParameters)
            let apiRequest = APIRequest(
                http: request, route: matched, pathParameters: parameters, query: query,
                principal: principal ?? .loopback, requestID: requestID)
            answer = try await matched.handler(apiRequest)
        } catch let error as any APIErrorConvertible {
            let apiError = error.apiError
            answer = APIResponse(apiError.response(instance: request.path), hresult: apiError.hresult)
        } catch {
            logger.error(
                "request failed unexpectedly",
                metadata: [
                    "request.id": "\(requestID)", "http.route": "\(route?.template ?? "-")",
                    "http.method": "\(request.method)", "error": "\(error)",
                ])
            answer = APIResponse(APIError.unexpected.response(instance: request.path), hresult: APIError.unexpected.hresult)
        }
        let elapsed = Self.monotonicSeconds() - started
        metrics?.recordRequest(
            route: route?.template ?? "unmatched", method: route?.method ?? "other", status: answer.http.status,
            hresult: answer.hresult, duration: .nanoseconds(Int64(elapsed * 1e9)))
        logAccess(
            requestID: requestID, method: request.method, route: route?.template, status: answer.http.status,
            hresult: answer.hresult, latency: elapsed, token: principal?.name, client: request.remoteAddress)
        var http = answer.http
        http.headers.add(name: "X-Request-Id", value: requestID)
        return http
    }

    /// One access line: request id, method, route template, status, HRESULT, latency, the token's
    /// name (never the token) and the client's address.
    private func logAccess(
        requestID: String, method: String, route: String?, status: Int, hresult: HResult, latency: Double?, token: String?,
        client: String?, level: Logger.Level = .info, reason: String? = nil
    ) {
        guard accessLog.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "request.id": .string(requestID),
            "http.method": .string(method),
            "http.route": .string(route ?? "-"),
            "http.status": .string(String(status)),
            "hresult": .string(hresult.name),
            "latency.ms": .string(latency.map(Self.milliseconds) ?? "0.000"),
            "token": .string(token ?? "-"),
            "client.address": .string(client ?? "-"),
        ]
        if let reason { metadata["reason"] = .string(reason) }
        accessLog.log(level: level, "request", metadata: metadata)
    }

    /// A request id the client sent (`X-Request-Id`, so its own logs and ours line up), when it is
    /// a plain token of at most 64 characters; anything else is replaced by one of ours.
    private static func requestID(sentIn request: HTTPRequest) -> String? {
        guard let sent = request.headers["X-Request-Id"], (1...64).contains(sent.utf8.count),
            sent.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x3A
            })
        else { return nil }
        return sent
    }

    /// Ours: this process's start (so ids differ across restarts) and a counter.
    private func nextID() -> String {
        "\(idPrefix)-\(nextRequestID.wrappingAdd(1, ordering: .relaxed).newValue)"
    }

    /// The route for the request, or the 404/405/400 that explains why there is none.
    private func match(_ request: HTTPRequest) throws(APIError) -> (Route, [String: String]) {
        switch router.match(method: request.method, path: request.path) {
        case .found(let route, let parameters):
            return (route, parameters)
        case .methodNotAllowed(let allowed):
            throw .methodNotAllowed(request.method, allowed: allowed)
        case .notFound:
            throw .noSuchResource
        case .malformedPath:
            throw .invalid("path", "is not valid percent-encoded UTF-8")
        }
    }

    /// The caller's principal: 401 without a valid token, 403 when the role does not permit the route
    /// or, without tokens, when the request may come from a web page rather than from this machine.
    /// `caller` is set as soon as the token is known, so a 403 still names it in the access log.
    private func authorize(_ request: HTTPRequest, for route: Route, caller: inout Principal?) throws(APIError) -> Principal? {
        guard route.access != .open else { return nil }
        let authenticator = self.authenticator.withLock { $0 }
        if !authenticator.isEnabled,
            let refusal = LoopbackRequestCheck.refusal(
                host: request.headers["Host"], origin: request.headers["Origin"],
                fetchSite: request.headers["Sec-Fetch-Site"])
        {
            throw .forbidden(refusal)
        }
        switch authenticator.authenticate(request.headers["Authorization"]) {
        case .failure(let failure):
            throw failure.apiError
        case .success(let principal):
            caller = principal
            guard principal.role.permits(route.access) else {
                throw .forbidden(
                    "token '\(principal.name)' has role \(principal.role.rawValue), which may not call \(route.method) \(route.template)")
            }
            return principal
        }
    }

    public func reject(_ rejection: HTTPRejection, method: String, path: String) -> HTTPResponse {
        reject(rejection, method: method, path: path, remoteAddress: nil)
    }

    /// The problem+json answer to a request the HTTP layer refused, with its access line (a mutual
    /// TLS refusal at notice level: someone without a valid certificate knocked) and request id.
    public func reject(_ rejection: HTTPRejection, method: String, path: String, remoteAddress: String?) -> HTTPResponse {
        let error = rejection.apiError
        var response = error.response(instance: String(path.prefix(256)))
        let requestID = nextID()
        let refusedCertificate = rejection == .clientCertificateRejected
        logAccess(
            requestID: requestID, method: method, route: nil, status: response.status, hresult: error.hresult, latency: nil,
            token: nil, client: remoteAddress, level: refusedCertificate ? .notice : .info,
            reason: refusedCertificate ? "client certificate missing or not signed by the configured CA" : nil)
        response.headers.add(name: "X-Request-Id", value: requestID)
        return response
    }

    private static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    private static func milliseconds(_ seconds: Double) -> String {
        let micros = Int((seconds * 1_000_000).rounded())
        let fraction = micros % 1000
        var text = String(micros / 1000)
        text += fraction < 10 ? ".00" : fraction < 100 ? ".0" : "."
        text += String(fraction)
        return text
    }
}
