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
    let events: EventHub
    let http: HTTPServer
    let logger: Logger

    /// Opens the store and builds the HTTP server (nothing listens yet).
    static func make(configuration: ServerConfiguration, logger: Logger) throws -> FirewallServer {
        let metrics = FirewallMetrics()
        let events = EventHub(settings: configuration.events, subscriberCountChanged: { metrics.setSubscribers($0) })
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
            eventSink: { happened in
                metrics.recordEvents(happened)
                events.publish(happened)
            })
        let routes = FirewallRoutes.make(
            service: service, settings: configuration.settings, metrics: metrics, events: events,
            audit: AuditLog(logger: logger))
        let responder = APIResponder(
            routes: routes, authenticator: Authenticator(tokens: configuration.tokens), metrics: metrics, logger: logger)
        let http = HTTPServer(configuration: configuration.httpConfiguration, responder: responder, logger: logger)
        return FirewallServer(configuration: configuration, service: service, events: events, http: http, logger: logger)
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
        let url = "\(configuration.tls == nil ? "http" : "https")://\(address)"
        logger.notice(
            "fwsessiond listening on \(url)",
            metadata: ["store": "\(configuration.store.rawValue)", "data": "\(configuration.dataDirectory)"])
        if SystemdNotify.isExpected, !SystemdNotify.send("READY=1\nSTATUS=listening on \(url)") {
            logger.warning("could not tell systemd that the service is ready (NOTIFY_SOCKET)")
        }
        let heartbeats = Task { await events.runHeartbeats() }
        try? await gracefulShutdown()
        SystemdNotify.send("STOPPING=1")
        logger.notice("shutting down: draining in-flight requests")
        heartbeats.cancel()
        events.close()
        await http.shutdown()
        await service.close()
        logger.notice("stopped")
    }
}
