/// How the server listens and what it tolerates from clients.
public struct HTTPServerConfiguration: Sendable {
    /// The IP literal to bind: IPv4 (`"127.0.0.1"`, `"0.0.0.0"`) or IPv6 (`"::1"`, `"::"`, also in
    /// brackets). An IPv6 address binds IPv6 only. Host names are not resolved.
    public var host: String = "127.0.0.1"
    /// The TCP port; 0 asks the kernel for a free one (read it back from ``HTTPServer/port``).
    public var port: UInt16 = 8080
    /// libmicrohttpd polling threads; 1 runs a single thread, more use MHD's thread pool.
    public var threadPoolSize: Int = 1
    /// The most connections open at once; more are accepted and closed at once by libmicrohttpd.
    public var connectionLimit: Int = 1024
    /// An idle or slow connection is closed after this many seconds without progress (0 = never).
    /// A request waiting for the responder does not time out.
    public var connectionTimeoutSeconds: Int = 30
    /// The largest request body accepted; larger ones get ``HTTPRejection/bodyTooLarge(limit:)``.
    public var maxBodyBytes: Int = 1_048_576
    /// Per-connection memory for the request line, headers and read buffer
    /// (`MHD_OPTION_CONNECTION_MEMORY_LIMIT`); requests with bigger headers are refused by MHD.
    public var connectionMemoryLimitBytes: Int = 65_536
    /// The longest request target (path and query) answered; longer ones get
    /// ``HTTPRejection/requestTargetTooLong(limit:)``. It and ``maxHeaderBytes`` must leave room in
    /// ``connectionMemoryLimitBytes`` for the answer: a head that does not fit there at all is
    /// refused by libmicrohttpd itself (its own short 414 or 431).
    public var maxRequestTargetBytes: Int = 8192
    /// The most bytes of header fields (names, values, separators) answered; more get
    /// ``HTTPRejection/headerFieldsTooLarge(limit:)``.
    public var maxHeaderBytes: Int = 16_384
    /// HTTPS instead of HTTP when set.
    public var tls: HTTPTLSConfiguration?

    /// Creates the default configuration.
    public init() {}

    /// Checks the numbers before they reach C, where a negative one would wrap around.
    func validate() throws(HTTPServerError) {
        func require(_ condition: Bool, _ message: String) throws(HTTPServerError) {
            if !condition { throw HTTPServerError("invalid HTTP server configuration: \(message)") }
        }
        try require(threadPoolSize >= 1 && threadPoolSize <= 1024, "threadPoolSize must be 1...1024, got \(threadPoolSize)")
        try require(connectionLimit >= 1 && connectionLimit <= Int(UInt32.max), "connectionLimit must be at least 1, got \(connectionLimit)")
        try require(
            connectionTimeoutSeconds >= 0 && connectionTimeoutSeconds <= Int(UInt32.max),
            "connectionTimeoutSeconds must not be negative, got \(connectionTimeoutSeconds)")
        try require(maxBodyBytes >= 0, "maxBodyBytes must not be negative, got \(maxBodyBytes)")
        try require(
            connectionMemoryLimitBytes >= 4096,
            "connectionMemoryLimitBytes must be at least 4096, got \(connectionMemoryLimitBytes)")
        try require(maxRequestTargetBytes >= 1, "maxRequestTargetBytes must be at least 1, got \(maxRequestTargetBytes)")
        try require(maxHeaderBytes >= 1, "maxHeaderBytes must be at least 1, got \(maxHeaderBytes)")
    }
}
