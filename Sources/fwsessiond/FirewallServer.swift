import FirewallAPI
import FirewallPersistence
import FirewallService
import FirewallSessions
import Logging
import MicroHTTPServer
import ServiceLifecycle

/// The running server as one lifecycle service: opens the store, serves HTTP, and on SIGTERM or
/// SIGINT drains in-flight requests, stops the timers, flushes the store and returns.
struct FirewallServer: Service {
    let configuration: ServerConfiguration
    let service: FirewallService
    let http: HTTPServer
    let logger: Logger

    /// Opens the store and builds the HTTP server (nothing listens yet).
    static func make(configuration: ServerConfiguration, logger: Logger) throws -> FirewallServer {
        let metrics = FirewallMetrics()
        let persistence: any PersistenceBackend
        switch configuration.store {
        case .memory:
            persistence = MemoryBackend()
        case .sqlite:
            persistence = try SQLiteBackend(
                directory: configuration.dataDirectory, logger: logger,
                commitObserver: { duration, changes in metrics.recordCommit(duration: duration, changes: changes) })
        }
        let service = try FirewallService(
            persistence: persistence, settings: configuration.settings, logger: logger,
            eventSink: { events in metrics.recordEvents(events) })
        let routes = FirewallRoutes.make(service: service, settings: configuration.settings, metrics: metrics)
        let responder = APIResponder(
            routes: routes, authenticator: Authenticator(tokens: configuration.tokens), metrics: metrics, logger: logger)
        let http = HTTPServer(configuration: configuration.httpConfiguration, responder: responder, logger: logger)
        return FirewallServer(configuration: configuration, service: service, http: http, logger: logger)
    }

    func run() async throws {
        await service.start()
        do {
            try http.start()
        } catch {
            await service.close()
            throw error
        }
        if configuration.tokens.isEmpty {
            logger.warning("no access tokens configured: every caller on this machine may use the API; listening on loopback only")
        }
        let address = ListenAddress(host: configuration.listen.host, port: http.port)
        logger.notice(
            "fwsessiond listening on http://\(address)",
            metadata: ["store": "\(configuration.store.rawValue)", "data": "\(configuration.dataDirectory)"])
        try? await gracefulShutdown()
        logger.notice("shutting down: draining in-flight requests")
        await http.shutdown()
        await service.close()
        logger.notice("stopped")
    }
}
