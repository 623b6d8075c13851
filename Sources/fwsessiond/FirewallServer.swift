import EventLoop
import FirewallAPI
import FirewallDataPlane
import FirewallPersistence
import FirewallPipeline
import FirewallService
import FirewallSessions
import Logging
import MicroHTTPServer
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The running server as one lifecycle service: opens the store, serves HTTP on each listen
/// address, reloads tokens, TLS files and log settings on SIGHUP, and on SIGTERM or SIGINT drains
/// in-flight requests, stops the timers, flushes the store and returns.
struct FirewallServer: Service {
    let configuration: ServerConfiguration
    let service: FirewallService
    let events: EventHub
    /// One HTTP server per listen address, sharing the responder.
    let http: [HTTPServer]
    let responder: APIResponder
    let logger: Logger
    /// Reads the configuration again (file and flags) for a reload.
    let resolve: @Sendable () throws -> ServerConfiguration
    /// The settings in force, as reloads change them.
    let current: ReloadedConfiguration
    /// With `--store postgres`: this node of the array.
    var arrayNode: ArrayNode?

    /// Opens the store and builds the HTTP server (nothing listens yet).
    static func make(
        configuration: ServerConfiguration, logger: Logger, resolve: @escaping @Sendable () throws -> ServerConfiguration
    ) throws -> FirewallServer {
        let metrics = FirewallMetrics(buildInfo: BuildInfo.labels)
        let events = EventHub(settings: configuration.events, subscriberCountChanged: { metrics.setSubscribers($0) })
        var restored = PersistedState()
        var sinks: [any ChangeSink] = []
        var arrayNode: ArrayNode?
        // The audit trail is read from the store that writes it; `--store memory` has none.
        var auditTrail: (any AuditTrailReader)?
        switch configuration.store {
        case .postgres:
            let joined = try ArrayNode.open(configuration.array, logger: logger)
            restored = joined.restored
            sinks.append(joined.node.backend)
            arrayNode = joined.node
            auditTrail = PGAuditTrail(settings: joined.node.backend.settings, retention: configuration.auditRetention)
        case .memory:
            break
        case .sqlite:
            let store = try SQLiteBackend(directory: configuration.dataDirectory)
            restored = try store.load()
            sinks.append(store)
            auditTrail = store.auditTrail(retention: configuration.auditRetention)
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
        // One thread for libmicrohttpd, the request tasks and the state's actor: no thread switch per request.
        let loop = EventLoop()
        let service = FirewallService(
            restoring: restored, sinks: sinks, traffic: traffic, settings: configuration.settings, logger: logger,
            listener: PipelineObserver(events: events, metrics: metrics), array: arrayNode, loop: loop, auditTrail: auditTrail)
        let routes = FirewallRoutes.make(
            service: service, settings: configuration.settings, metrics: metrics, events: events,
            audit: AuditLog(logger: logger))
        let responder = APIResponder(
            routes: routes, authenticator: Authenticator(tokens: configuration.tokens), metrics: metrics, logger: logger)
        let http = configuration.listen.map {
            HTTPServer(configuration: configuration.httpConfiguration(for: $0), responder: responder, logger: logger, loop: loop)
        }
        return FirewallServer(
            configuration: configuration, service: service, events: events, http: http, responder: responder, logger: logger,
            resolve: resolve, current: ReloadedConfiguration(configuration), arrayNode: arrayNode)
    }

    func run() async throws {
        try await service.start()
        try await arrayNode?.start(service)
        do {
            for server in http { try server.start() }
        } catch {
            for server in http { await server.shutdown() }
            await service.close()
            throw error
        }
        if configuration.tokens.isEmpty {
            logger.warning("no access tokens configured: every caller on this machine may use the API; listening on loopback only")
        }
        let urls = zip(configuration.listen, http).map { address, server in
            "\(configuration.tls == nil ? "http" : "https")://\(ListenAddress(host: address.host, port: server.port))"
        }
        for url in urls {
            logger.notice(
                "fwsessiond listening on \(url)",
                metadata: [
                    "store": "\(configuration.store.rawValue)", "data": "\(configuration.dataDirectory)", "version": "\(BuildInfo.version)",
                ])
        }
        if SystemdNotify.isExpected, !SystemdNotify.send("READY=1\nSTATUS=listening on \(urls.joined(separator: ", "))") {
            logger.warning("could not tell systemd that the service is ready (NOTIFY_SOCKET)")
        }
        let heartbeats = Task { await events.runHeartbeats() }
        let reloads = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) { reload() }
        }
        try? await gracefulShutdown()
        SystemdNotify.send("STOPPING=1")
        logger.notice("shutting down: draining in-flight requests")
        reloads.cancel()
        heartbeats.cancel()
        events.close()
        await withTaskGroup(of: Void.self) { group in
            for server in http { group.addTask { await server.shutdown() } }
        }
        arrayNode?.stop()
        await service.close()
        logger.notice("stopped")
    }
}

extension FirewallServer {
    /// SIGHUP: reads the configuration file (and the flags) again and applies what can change
    /// while running: tokens, TLS files (no connection or `/events` stream is dropped: see
    /// `HTTPServer.reloadTLS`), log level and format. Anything wrong (a bad file, a key that does
    /// not load) keeps every running setting and says why; other changed settings are named as
    /// waiting for a restart.
    func reload() {
        let running = current.configuration
        let fresh: ServerConfiguration
        do {
            fresh = try resolve()
        } catch {
            logger.error("reload failed; the running settings stay", metadata: ["error": "\(error)"])
            return
        }
        if fresh.tls != running.tls {
            var reloaded: [HTTPServer] = []
            for server in http {
                do {
                    try server.reloadTLS(fresh.tls)
                    reloaded.append(server)
                } catch {
                    for done in reloaded { try? done.reloadTLS(running.tls) }
                    logger.error("reload failed; the running settings stay", metadata: ["error": "\(error)"])
                    return
                }
            }
        }
        responder.replaceAuthenticator(Authenticator(tokens: fresh.tokens))
        LogSettings.shared.update(level: LogLevelName.parse(fresh.logLevel) ?? .info, format: fresh.logFormat)
        let applied = running.withReloadable(from: fresh)
        current.configuration = applied
        var metadata: Logger.Metadata = [
            "tokens": "\(fresh.tokens.count)", "tls": "\(fresh.tls != nil)", "tls.reloaded": "\(fresh.tls != running.tls)",
            "log.level": "\(fresh.logLevel)", "log.format": "\(fresh.logFormat.rawValue)",
        ]
        if fresh != applied { metadata["restart.needed"] = "other changed settings take effect at the next start" }
        logger.notice("configuration reloaded", metadata: metadata)
    }
}

/// The configuration in force, which reloads replace (only the reload task writes it).
final class ReloadedConfiguration: Sendable {
    private let state: Mutex<ServerConfiguration>

    init(_ configuration: ServerConfiguration) { state = Mutex(configuration) }

    var configuration: ServerConfiguration {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
