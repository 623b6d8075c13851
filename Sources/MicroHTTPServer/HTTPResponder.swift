/// The application behind the server: it answers requests and renders every body, including
/// those of requests the HTTP layer refuses.
public protocol HTTPResponder: Sendable {
    /// Answers a complete request. Runs in its own task, never on a libmicrohttpd thread.
    func respond(to request: HTTPRequest) async -> HTTPResponse

    /// Answers a complete request at once, on the server's event loop thread, when that needs no
    /// waiting (a read of a state owned by an actor on that loop); nil: ``respond(to:)`` answers.
    /// Only called when the server runs on an ``EventLoop``; must not block.
    func respondImmediately(to request: HTTPRequest) -> HTTPResponse?

    /// Renders the answer to a request refused before ``respond(to:)`` would see it.
    ///
    /// Called synchronously on a libmicrohttpd thread; must be cheap and must not block.
    func reject(_ rejection: HTTPRejection, method: String, path: String) -> HTTPResponse

    /// The same, with the client's address (`"127.0.0.1:54321"`, when known) for the access log.
    /// The server calls this one; by default it forwards to ``reject(_:method:path:)``.
    func reject(_ rejection: HTTPRejection, method: String, path: String, remoteAddress: String?) -> HTTPResponse
}

extension HTTPResponder {
    /// Nothing is answered at once by default.
    public func respondImmediately(to request: HTTPRequest) -> HTTPResponse? { nil }

    /// Forwards to ``reject(_:method:path:)``.
    public func reject(_ rejection: HTTPRejection, method: String, path: String, remoteAddress: String?) -> HTTPResponse {
        reject(rejection, method: method, path: path)
    }
}
