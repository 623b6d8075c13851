import MicroHTTPServer

/// One operation of the API: method, path template (OpenAPI syntax), operationId and handler.
public struct Route: Sendable {
    /// One piece of a path template.
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    /// `GET`, `POST`, `PUT`, `DELETE`.
    public let method: String
    /// The template, e.g. `/sessions/{id}/binds/{bindId}`, exactly as openapi.yaml writes it.
    public let template: String
    /// The operationId in openapi.yaml.
    public let operationID: String
    /// What the caller's role must permit.
    public let access: RouteAccess
    /// The query parameters it accepts; any other is E_INVALIDARG (typos are not ignored).
    public let queryParameters: Set<String>
    let segments: [Segment]
    /// For each segment, whether it is a literal: templates of the same shape name the same resource.
    let literalShape: [Bool]
    let handler: @Sendable (APIRequest) async throws -> APIResponse

    /// Creates a route; `access` defaults to any role for GET and to `admin` otherwise.
    public init(
        _ method: String, _ template: String, _ operationID: String, access: RouteAccess? = nil,
        query queryParameters: Set<String> = [], _ handler: @escaping @Sendable (APIRequest) async throws -> APIResponse
    ) {
        self.method = method
        self.template = template
        self.operationID = operationID
        self.access = access ?? (method == "GET" ? .read : .admin)
        self.queryParameters = queryParameters
        self.handler = handler
        segments = template.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
        literalShape = segments.map { if case .literal = $0 { true } else { false } }
    }
}
