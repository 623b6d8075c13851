import FirewallSessions

/// The query string of a request, decoded and checked against what the route accepts.
public struct QueryParameters: Sendable {
    private var values: [String: String] = [:]

    /// Parses `a=1&b=2`; a repeated key or a bad escape is E_INVALIDARG.
    init(_ query: String?) throws(APIError) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = PercentDecoding.decode(parts[0], plusIsSpace: true), !key.isEmpty else {
                throw .invalid("query", "is not valid percent-encoding")
            }
            guard let value = PercentDecoding.decode(parts.count > 1 ? parts[1] : "", plusIsSpace: true) else {
                throw .invalid(key, "is not valid percent-encoding")
            }
            guard values[key] == nil else { throw .invalid(key, "is given more than once") }
            values[key] = value
        }
    }

    /// Rejects any parameter the route does not know (typos must not be silently ignored).
    func allowOnly(_ names: Set<String>) throws(APIError) {
        if let unknown = values.keys.sorted().first(where: { !names.contains($0) }) {
            throw .invalid(unknown, "is not a query parameter of this operation")
        }
    }

    /// The value of `name`, if given.
    subscript(name: String) -> String? { values[name] }

    /// `?limit=` (1...1000, default 100) and `?cursor=`.
    func page() throws(APIError) -> PageRequest {
        var page = PageRequest()
        if let text = values["limit"] {
            guard let limit = Int(text), PageRequest.limits.contains(limit), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
            else { throw .invalid("limit", "must be an integer in 1...1000") }
            page.limit = limit
        }
        if let cursor = values["cursor"] {
            // A cursor is a position (1 to 20 decimal digits). One past the last item, even past
            // UInt64.max, is simply an empty last page; only something that is not a position is 400.
            guard !cursor.isEmpty, cursor.utf8.count <= 20, cursor.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
            else { throw .invalid("cursor", "is not a cursor this server issued") }
            page.after = PageRequest.parseCursor(cursor) ?? .max
        }
        return page
    }
}
