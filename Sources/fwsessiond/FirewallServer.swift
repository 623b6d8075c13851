import FirewallAPI
import FirewallDataPlane
import FirewallPersistence
import FirewallPipeline
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
    /// With `--store postgres`: this node of the array.
    var arrayNode: ArrayNode?

    /// Opens the store and builds the HTTP server (nothing listens yet).
    static func make(configuration: ServerConfiguration, logger: Logger) throws -> FirewallServer {
        let metrics = FirewallMetrics()
        let events = EventHub(settings: configuration.events, subscriberCountChanged: { metrics.setSubscribers($0) })
        var restored = PersistedState()
        var sinks: [any ChangeSink] = []
        var arrayNode: ArrayNode?
        switch configuration.store {
        case .postgres:
            let joined = try ArrayNode.open(configuration.array, logger: logger)
            restored = joined.restored
            sinks.append(joined.node.backend)
            arrayNode = joined.node
        case .memory:
            break
        case .sqlite:
            let store = try SQLiteBackend(directory: configuration.dataDirectory)
            restored = try store.load()
            sinks.append(store)
        }
        var traffic: (any TrafficCounterSource)?
        if let dataPlaneSettings = configuration.dataPlane {
            let dataPlane = try NFTablesDataPlane(
                settings: dataPlaneSettings, bidirectionalWindowSeconds: configuration.settings.bidirectionalWindowSeconds,
                logger: logger,
                events: { event in
                    switch event {
                    case .loaded(_, let duration): metrics.recordDataPlaneLoad(duration)
                    case .repaired: metrics.recordDataPlaneRepair()
                    }
                })
            sinks.append(dataPlane)
            traffic = dataPlane
        }
        let service = FirewallService(
            restoring: restored, sinks: sinks, traffic: traffic, settings: configuration.settings, logger: logger,
            listener: PipelineObserver(events: events, metrics: metrics), array: arrayNode)
        let routes = FirewallRoutes.make(
            service: service, settings: configuration.settings, metrics: metrics, events: events,
            audit: AuditLog(logger: logger))
        let responder = APIResponder(
            routes: routes, authenticator: Authenticator(tokens: configuration.tokens), metrics: metrics, logger: logger)
        let http = HTTPServer(configuration: configuration.httpConfiguration, responder: responder, logger: logger)
        return FirewallServer(
            configuration: configuration, service: service, events: events, http: http, logger: logger, arrayNode: arrayNode)
    }

    func run() async throws {
        try await service.start()
        try await arrayNode?.start(service)
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
        arrayNode?.stop()
        await service.close()
        logger.notice("stopped")
    }
}
