/// The answer to one request.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// Header fields to send. The server adds `Content-Length` and `Date` itself and ignores a
    /// `Content-Length` given here (libmicrohttpd computes it from `body`).
    public var headers: HTTPHeaders
    /// The body bytes. For a `HEAD` request they only size `Content-Length` and are not sent.
    public var body: [UInt8]
    /// A body produced over time (sent chunked, without `Content-Length`); `body` is then ignored.
    public var stream: (any HTTPBodyStream)?

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Creates a streamed response, e.g. Server-Sent Events.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), stream: any HTTPBodyStream) {
        self.status = status
        self.headers = headers
        body = []
        self.stream = stream
    }
}
