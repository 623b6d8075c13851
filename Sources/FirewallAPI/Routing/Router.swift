import FirewallSessions

/// Matches a method and raw path against the route table.
///
/// Routes are grouped by segment count, so a match compares a handful of templates, and literal
/// segments are compared before parameters are decoded (only the matched route's are).
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
    /// Routes by segment count, most specific template first (see `match`), stable otherwise.
    private let routesBySegmentCount: [Int: [Route]]

    /// Builds the router.
    public init(routes: [Route]) {
        self.routes = routes
        routesBySegmentCount = Dictionary(grouping: routes, by: \.segments.count).mapValues { group in
            group.enumerated().sorted { lhs, rhs in
                if lhs.element.literalShape != rhs.element.literalShape {
                    return Self.isMoreSpecific(lhs.element.literalShape, than: rhs.element.literalShape)
                }
                return lhs.offset < rhs.offset
            }.map(\.element)
        }
    }

    /// Finds the route for `method` and the raw (still percent-encoded) `path`. HEAD matches GET.
    ///
    /// Only the most specific templates that fit name the resource (OpenAPI: concrete paths are
    /// matched before templated ones), so `/rules/evaluate` is not also `/rules/{id}`: GET on it is
    /// 405 with `Allow: POST`, not a lookup of a rule called "evaluate". Candidates are sorted most
    /// specific first, so the first template that fits fixes the shape and the scan stops at the
    /// first one of another shape.
    public func match(method: String, path: String) -> Match {
        let utf8 = path.utf8
        guard utf8.first == UInt8(ascii: "/") else { return .notFound }
        var parts: [Substring] = []
        parts.reserveCapacity(6)
        if utf8.count > 1 {
            var segmentStart = utf8.index(after: utf8.startIndex)
            var index = segmentStart
            while index != utf8.endIndex {
                if utf8[index] == UInt8(ascii: "/") {
                    parts.append(path[segmentStart..<index])
                    segmentStart = utf8.index(after: index)
                }
                index = utf8.index(after: index)
            }
            parts.append(path[segmentStart..<utf8.endIndex])
        }
        guard let candidates = routesBySegmentCount[parts.count] else { return .notFound }
        let wanted = method == "HEAD" ? "GET" : method
        // The first template that fits names the resource: its parameters are decoded once (they
        // must be valid percent-encoding whatever the method) and serve every method on it.
        var resource: (shape: [Bool], template: String, parameters: [String: String])?
        var allowed: [String] = []
        for route in candidates {
            if let resource, route.literalShape != resource.shape { break }
            guard Self.fits(route.segments, parts) else { continue }
            if resource == nil {
                guard let parameters = Self.parameters(route.segments, parts) else { return .malformedPath }
                resource = (route.literalShape, route.template, parameters)
            }
            guard route.method == wanted else {
                allowed.append(route.method)
                continue
            }
            // Other methods on the same template share its parameters; another template of the same
            // shape (other parameter names) decodes its own.
            if let resource, resource.template == route.template { return .found(route, resource.parameters) }
            guard let parameters = Self.parameters(route.segments, parts) else { return .malformedPath }
            return .found(route, parameters)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// Whether a template with these literal segments is more specific than one with `other`: a
    /// literal beats a parameter at the first segment where they differ.
    private static func isMoreSpecific(_ literals: [Bool], than other: [Bool]) -> Bool {
        for (mine, theirs) in zip(literals, other) where mine != theirs { return mine }
        return false
    }

    /// Whether the literal segments match and no parameter is empty.
    private static func fits(_ template: [Route.Segment], _ parts: [Substring]) -> Bool {
        for (segment, part) in zip(template, parts) {
            switch segment {
            case .literal(let literal):
                guard part.utf8.elementsEqual(literal.utf8) else { return false }
            case .parameter:
                guard !part.isEmpty else { return false }
            }
        }
        return true
    }

    /// The decoded parameters of a template that fits; nil when one is not valid percent-encoding.
    private static func parameters(_ template: [Route.Segment], _ parts: [Substring]) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (segment, part) in zip(template, parts) {
            guard case .parameter(let name) = segment else { continue }
            guard let decoded = PercentDecoding.decode(part, plusIsSpace: false) else { return nil }
            parameters[name] = decoded
        }
        return parameters
    }
}
