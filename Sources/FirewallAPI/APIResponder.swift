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
    private let authenticator: Authenticator
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
        self.authenticator = authenticator
        self.metrics = metrics
        self.logger = logger
        var accessLog = logger
        accessLog[metadataKey: "log"] = "access"
        self.accessLog = accessLog
    }

    /// The routes served, for the contract test against openapi.yaml.
    public var routes: [Route] { router.routes }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let started = Self.monotonicSeconds()
        let requestID = nextRequestID.wrappingAdd(1, ordering: .relaxed).newValue
        var route: Route?
        var principal: Principal?
        let answer: APIResponse
        do {
            let (matched, parameters) = try match(request)
            route = matched
            principal = try authorize(request, for: matched)
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
        if accessLog.logLevel <= .info {
            accessLog.info(
                "request",
                metadata: [
                    "request.id": "\(requestID)",
                    "http.method": "\(request.method)",
                    "http.route": "\(route?.template ?? "-")",
                    "http.status": "\(answer.http.status)",
                    "hresult": "\(answer.hresult.name)",
                    "latency.ms": "\(Self.milliseconds(elapsed))",
                    "token": "\(principal?.name ?? "-")",
                ])
        }
        return answer.http
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
    private func authorize(_ request: HTTPRequest, for route: Route) throws(APIError) -> Principal? {
        guard route.access != .open else { return nil }
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
            guard principal.role.permits(route.access) else {
                throw .forbidden(
                    "token '\(principal.name)' has role \(principal.role.rawValue), which may not call \(route.method) \(route.template)")
            }
            return principal
        }
    }

    public func reject(_ rejection: HTTPRejection, method: String, path: String) -> HTTPResponse {
        rejection.apiError.response(instance: String(path.prefix(256)))
    }

    private static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    private static func milliseconds(_ seconds: Double) -> String {
        let micros = Int((seconds * 1_000_000).rounded())
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - String(micros % 1000).count))\(micros % 1000)"
    }
}
