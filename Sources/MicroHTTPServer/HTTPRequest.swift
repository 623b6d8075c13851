/// A request as the client sent it, handed to the ``HTTPResponder`` once its body is complete.
public struct HTTPRequest: Sendable {
    /// The method exactly as sent, e.g. `"GET"`.
    public var method: String
    /// The request target before the first `?`, not percent-decoded, e.g. `"/sessions/a%20b/binds"`.
    public var path: String
    /// The raw text after the first `?`, or nil when the target has no `?`.
    public var query: String?
    /// The request's header fields, in the order sent.
    public var headers: HTTPHeaders
    /// The whole request body (empty when there is none).
    public var body: [UInt8]
    /// The peer as `"127.0.0.1:54321"` or `"[::1]:5000"`, when known.
    public var remoteAddress: String?

    /// Creates a request; the server builds these itself, tests and callers above may too.
    public init(
        method: String,
        path: String,
        query: String? = nil,
        headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = [],
        remoteAddress: String? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }
}
