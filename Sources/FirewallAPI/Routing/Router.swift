import FirewallSessions

/// Matches a method and raw path against the route table.
///
/// Routes are grouped by segment count, so a match compares a handful of templates, and literal
/// segments are compared before parameters are decoded.
public struct Router: Sendable {
    /// The outcome of a match.
    public enum Match: Sendable {
        /// A route and its decoded path parameters.
        case found(Route, [String: String])
        /// The path exists but not with this method; `allowed` lists the methods that do.
        case methodNotAllowed(allowed: [String])
        /// No route has this path.
        case notFound
        /// The path is not valid percent-encoding.
        case malformedPath
    }

    /// Every route, in table order.
    public let routes: [Route]
    private let routesBySegmentCount: [Int: [Route]]

    /// Builds the router.
    public init(routes: [Route]) {
        self.routes = routes
        routesBySegmentCount = Dictionary(grouping: routes, by: \.segments.count)
    }

    /// Finds the route for `method` and the raw (still percent-encoded) `path`. HEAD matches GET.
    public func match(method: String, path: String) -> Match {
        let rawSegments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard path.hasPrefix("/") else { return .notFound }
        let parts = rawSegments.count == 1 && rawSegments.first == "" ? [] : Array(rawSegments)
        guard let candidates = routesBySegmentCount[parts.count] else { return .notFound }
        let wanted = method == "HEAD" ? "GET" : method
        // Only the most specific templates that fit name the resource (OpenAPI: concrete paths are
        // matched before templated ones), so `/rules/evaluate` is not also `/rules/{id}`: GET on it
        // is 405 with `Allow: POST`, not a lookup of a rule called "evaluate".
        var shape: [Bool] = []
        var fitting: [(route: Route, parameters: [String: String]?)] = []
        for route in candidates {
            guard let parameters = Self.bind(route.segments, to: parts) else { continue }
            let literals = route.segments.map { if case .literal = $0 { true } else { false } }
            if fitting.isEmpty || Self.isMoreSpecific(literals, than: shape) {
                shape = literals
                fitting = [(route, parameters)]
            } else if literals == shape {
                fitting.append((route, parameters))
            }
        }
        var allowed: [String] = []
        for (route, parameters) in fitting {
            guard let decoded = parameters else { return .malformedPath }
            if route.method == wanted { return .found(route, decoded) }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// Whether a template with these literal segments is more specific than one with `other`: a
    /// literal beats a parameter at the first segment where they differ.
    private static func isMoreSpecific(_ literals: [Bool], than other: [Bool]) -> Bool {
        for (mine, theirs) in zip(literals, other) where mine != theirs { return mine }
        return false
    }

    /// Nil when the template does not fit; `.some(nil)` when it fits but a parameter is not valid
    /// percent-encoding.
    private static func bind(_ template: [Route.Segment], to parts: [Substring]) -> [String: String]?? {
        var parameters: [String: String] = [:]
        var malformed = false
        for (segment, part) in zip(template, parts) {
            switch segment {
            case .literal(let literal):
                guard part == literal else { return nil }
            case .parameter(let name):
                guard !part.isEmpty else { return nil }
                if let decoded = PercentDecoding.decode(part, plusIsSpace: false) {
                    parameters[name] = decoded
                } else {
                    malformed = true
                }
            }
        }
        return malformed ? .some(nil) : .some(parameters)
    }
}
