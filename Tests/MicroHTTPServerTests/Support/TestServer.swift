import Logging
import MicroHTTPServer

/// A logger that shows warnings (libmicrohttpd's own messages among them) and nothing chattier.
func makeTestLogger() -> Logger {
    var logger = Logger(label: "MicroHTTPServerTests")
    logger.logLevel = .warning
    return logger
}

/// A configuration on 127.0.0.1 with an ephemeral port, changed by `configure`.
func makeConfiguration(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in }) -> HTTPServerConfiguration {
    var configuration = HTTPServerConfiguration()
    configuration.port = 0
    configure(&configuration)
    return configuration
}

/// Starts a real server with a ``TestResponder``, runs `body`, and shuts the server down even
/// when `body` throws (opening the gate first, so no held request keeps shutdown waiting).
func withTestServer<T>(
    _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    _ body: (HTTPServer, TestResponder) async throws -> T
) async throws -> T {
    let responder = TestResponder()
    let server = HTTPServer(configuration: makeConfiguration(configure), responder: responder, logger: makeTestLogger())
    try server.start()
    do {
        let result = try await body(server, responder)
        responder.gate.open()
        await server.shutdown()
        return result
    } catch {
        responder.gate.open()
        await server.shutdown()
        throw error
    }
}
