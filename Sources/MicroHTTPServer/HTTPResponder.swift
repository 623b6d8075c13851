/// The application behind the server: it answers requests and renders every body, including
/// those of requests the HTTP layer refuses.
public protocol HTTPResponder: Sendable {
    /// Answers a complete request. Runs in its own task, never on a libmicrohttpd thread.
    func respond(to request: HTTPRequest) async -> HTTPResponse

    /// Renders the answer to a request refused before ``respond(to:)`` would see it.
    ///
    /// Called synchronously on a libmicrohttpd thread; must be cheap and must not block.
    func reject(_ rejection: HTTPRejection, method: String, path: String) -> HTTPResponse

    /// The same, with the client's address (`"127.0.0.1:54321"`, when known) for the access log.
    /// The server calls this one; by default it forwards to ``reject(_:method:path:)``.
    func reject(_ rejection: HTTPRejection, method: String, path: String, remoteAddress: String?) -> HTTPResponse
}

extension HTTPResponder {
    /// Forwards to ``reject(_:method:path:)``.
    public func reject(_ rejection: HTTPRejection, method: String, path: String, remoteAddress: String?) -> HTTPResponse {
        reject(rejection, method: method, path: path)
    }
}
