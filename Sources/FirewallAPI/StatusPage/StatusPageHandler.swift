import MicroHTTPServer

/// `GET /ui`: the built-in status page, one self-contained HTML document (no external assets).
///
/// The page itself holds no data; it reads the API from the browser, with the bearer token the
/// user types in (kept in the tab's sessionStorage), and follows `/events` through `fetch`, since
/// `EventSource` cannot send an Authorization header.
struct StatusPageHandler: Sendable {
    /// A strict policy: only this document's inline script and style, and requests to this origin.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    func page(_ request: APIRequest) async throws -> APIResponse {
        let headers = HTTPHeaders([
            (name: "Content-Type", value: "text/html; charset=utf-8"),
            (name: "Content-Security-Policy", value: Self.contentSecurityPolicy),
            (name: "X-Content-Type-Options", value: "nosniff"),
            (name: "Referrer-Policy", value: "no-referrer"),
            (name: "Cache-Control", value: "no-cache"),
        ])
        return APIResponse(HTTPResponse(status: 200, headers: headers, body: StatusPage.bytes))
    }

    /// `GET /`: a browser pointed at the server lands on the status page.
    func redirect(_ request: APIRequest) async throws -> APIResponse {
        APIResponse(HTTPResponse(status: 302, headers: HTTPHeaders([(name: "Location", value: "/ui")]), body: []))
    }
}
