import FirewallService
import FirewallSessions
import Logging
import MicroHTTPServer

/// The application behind the HTTP server: routes each request, runs its handler and turns every
/// failure into problem+json.
public struct APIResponder: HTTPResponder {
    private let router: Router
    private let logger: Logger

    /// Builds the responder over a route table.
    public init(routes: [Route], logger: Logger) {
        router = Router(routes: routes)
        self.logger = logger
    }

    /// The routes served, for the contract test against openapi.yaml.
    public var routes: [Route] { router.routes }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch router.match(method: request.method, path: request.path) {
        case .found(let route, let parameters):
            do {
                let query = try QueryParameters(request.query)
                let apiRequest = APIRequest(http: request, route: route, pathParameters: parameters, query: query)
                return try await route.handler(apiRequest)
            } catch let error as APIError {
                return error.response(instance: request.path)
            } catch let error as FirewallError {
                return APIError(error).response(instance: request.path)
            } catch {
                logger.error(
                    "request failed unexpectedly",
                    metadata: ["http.route": "\(route.template)", "http.method": "\(request.method)", "error": "\(error)"])
                return APIError(status: 500, .E_FAIL, "unexpected failure; the server log has the details")
                    .response(instance: request.path)
            }
        case .methodNotAllowed(let allowed):
            return APIError(
                status: 405, .ERROR_INVALID_FUNCTION, "\(request.method) is not supported on this resource",
                headers: [(name: "Allow", value: allowed.joined(separator: ", "))]
            ).response(instance: request.path)
        case .notFound:
            return APIError(status: 404, .ERROR_NOT_FOUND, "no such resource").response(instance: request.path)
        case .malformedPath:
            return APIError.invalid("path", "is not valid percent-encoded UTF-8").response(instance: request.path)
        }
    }

    public func reject(_ rejection: HTTPRejection, method: String, path: String) -> HTTPResponse {
        let instance = String(path.prefix(256))
        switch rejection {
        case .bodyTooLarge(let limit):
            return APIError(status: 413, .E_INVALIDARG, "the request body is larger than the limit of \(limit) bytes")
                .response(instance: instance)
        case .shuttingDown:
            return APIError(
                status: 503, .FWX_E_TERMINATING, "the server is shutting down", headers: [(name: "Retry-After", value: "1")]
            ).response(instance: instance)
        @unknown default:
            return APIError(status: 400, .E_INVALIDARG, "the request was refused").response(instance: instance)
        }
    }
}
