import FirewallSessions
import MicroHTTPServer

/// A handler's answer: the HTTP response and the HRESULT it stands for (for the access log).
public struct APIResponse: Sendable {
    /// What goes on the wire.
    public var http: HTTPResponse
    /// S_OK, or S_FALSE for a RetroactiveAllowBind that changed nothing.
    public var hresult: HResult

    /// Wraps a response.
    public init(_ http: HTTPResponse, hresult: HResult = .S_OK) {
        self.http = http
        self.hresult = hresult
    }

    /// A response without a body (204).
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders()) {
        self.init(HTTPResponse(status: status, headers: headers))
    }
}
