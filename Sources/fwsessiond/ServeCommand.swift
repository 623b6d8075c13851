import ArgumentParser
import FirewallAPI
import FirewallDataPlane
import FirewallPersistence
import FirewallPipeline
import FirewallService
import Logging
import MicroHTTPServer
import ServiceLifecycle
import UnixSignals

/// `fwsessiond serve`: runs the control plane until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server (flags override the configuration file).")

    @Option(help: "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 picks a free port); repeat it, or separate with commas, for several (e.g. 127.0.0.1:8080 and [::1]:8080).")
    var listen: [String] = []

    @Option(help: "Data folder; the SQLite database lives there (default ./data).")
    var data: String?

    @Option(help: "sqlite (durable, default), memory, or postgres (one node of an array).")
    var store: String?

    @Option(help: "none (default) or nftables: program the kernel's firewall (needs CAP_NET_ADMIN).")
    var dataplane: String?

    @Option(help: "With --store postgres: the PostgreSQL URL (libpq; several hosts allowed).")
    var postgresUrl: String?

    @Option(help: "With --store postgres: this node's id, unique in the array and kept across restarts.")
    var nodeId: String?

    @Option(help: "With --store postgres: the URL clients reach this node at (redirects from other nodes point there).")
    var advertiseUrl: String?

    @Option(help: "JSON configuration file.")
    var config: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(help: "text (default) or json: one JSON object per log line.")
    var logFormat: String?

    @Option(help: "PEM certificate (chain) for HTTPS; needs --tls-key.")
    var tlsCert: String?

    @Option(help: "PEM private key for HTTPS.")
    var tlsKey: String?

    @Option(help: "PEM CA that client certificates must chain to (mutual TLS).")
    var tlsClientCa: String?

    func run() async throws {
        let configuration = try resolveConfiguration()
        // Level and format live in LogSettings, so that a reload (SIGHUP) can change them.
        LogSettings.shared.update(level: LogLevelName.parse(configuration.logLevel) ?? .info, format: configuration.logFormat)
        LoggingSystem.bootstrap { label in ReloadableLogHandler(label: label) }
        let flusher = Task { await LogOutput.shared.runFlusher() }
        defer {
            flusher.cancel()
            LogOutput.shared.flush()
        }
        let logger = Logger(label: "fwsessiond")
        let command = self
        // Opening the store and restoring the state block (seconds for a million binds): not on the cooperative pool.
        let server = try await runOnThread {
            try FirewallServer.make(configuration: configuration, logger: logger) { try command.resolveConfiguration() }
        }
        let group = ServiceGroup(
            services: [server], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        try await group.run()
    }

    /// Defaults, then the file, then the flags; any bad value stops here with its name.
    func resolveConfiguration() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let config {
            do {
                try ConfigurationFile.apply(path: config, to: &configuration)
            } catch {
                throw ValidationError("configuration \(error.description)")
            }
        }
        if !listen.isEmpty { configuration.listen = try Self.flag("--listen", listen, SettingValue.listen) }
        if let data { configuration.dataDirectory = try Self.flag("--data", data, SettingValue.dataDirectory) }
        if let store { configuration.store = try Self.flag("--store", store, SettingValue.choice(ServerConfiguration.StoreKind.self)) }
        if let dataplane {
            switch try Self.flag("--dataplane", dataplane, SettingValue.choice(DataPlaneKind.self)) {
            case .none: configuration.dataPlane = nil
            case .nftables: configuration.dataPlane = configuration.dataPlane ?? DataPlaneSettings()
            }
        }
        if let postgresUrl { configuration.array.url = postgresUrl }
        if let nodeId { configuration.array.nodeID = nodeId }
        if let advertiseUrl { configuration.array.advertiseURL = advertiseUrl }
        if configuration.store == .postgres, let problem = configuration.array.problem { throw ValidationError(problem) }
        if let logLevel { configuration.logLevel = try Self.flag("--log-level", logLevel, SettingValue.logLevel) }
        if let logFormat {
            configuration.logFormat = try Self.flag("--log-format", logFormat, SettingValue.choice(ServerConfiguration.LogFormat.self))
        }
        if let tlsCert { configuration.tlsCertificatePath = tlsCert }
        if let tlsKey { configuration.tlsKeyPath = tlsKey }
        if let tlsClientCa { configuration.tlsClientCAPath = tlsClientCa }
        configuration.tls = try loadTLS(configuration)
        if let problem = configuration.insecureListenProblem { throw ValidationError(problem) }
        return configuration
    }

    /// A flag's value as `read` makes it; a bad one stops the start naming the flag.
    private static func flag<Text, Value>(_ name: String, _ text: Text, _ read: (Text) throws(SettingValue.Invalid) -> Value)
        throws -> Value
    {
        do {
            return try read(text)
        } catch {
            throw ValidationError("\(name) \(error.reason)")
        }
    }

    /// Reads the PEM files; a missing or unreadable one stops the start naming it.
    private func loadTLS(_ configuration: ServerConfiguration) throws -> HTTPTLSConfiguration? {
        switch (configuration.tlsCertificatePath, configuration.tlsKeyPath) {
        case (nil, nil):
            guard configuration.tlsClientCAPath == nil else {
                throw ValidationError("a client CA (mutual TLS) needs --tls-cert and --tls-key")
            }
            return nil
        case (let certificate?, let key?):
            func pem(_ path: String, _ what: String) throws -> String {
                do {
                    let text = String(decoding: try ConfigurationFile.read(path), as: UTF8.self)
                    guard text.contains("-----BEGIN") else { throw ValidationError("\(what) \(path) is not a PEM file") }
                    return text
                } catch let error as ConfigurationFile.Failure {
                    throw ValidationError("\(what): \(error.description)")
                }
            }
            return HTTPTLSConfiguration(
                certificatePEM: try pem(certificate, "TLS certificate"), privateKeyPEM: try pem(key, "TLS key"),
                clientCertificateAuthorityPEM: try configuration.tlsClientCAPath.map { try pem($0, "TLS client CA") })
        default:
            throw ValidationError("--tls-cert and --tls-key (or tls.certificate and tls.privateKey) go together")
        }
    }
}
