import ArgumentParser
import FirewallAPI
import FirewallPersistence
import FirewallService
import Logging
import MicroHTTPServer
import ServiceLifecycle

/// `fwsessiond serve`: runs the control plane until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server (flags override the configuration file).")

    @Option(help: "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 picks a free port).")
    var listen: String?

    @Option(help: "Data folder; the SQLite database lives there (default ./data).")
    var data: String?

    @Option(help: "sqlite (durable, default) or memory.")
    var store: String?

    @Option(help: "JSON configuration file.")
    var config: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    func run() async throws {
        let configuration = try resolveConfiguration()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = LogLevelName.parse(configuration.logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "fwsessiond")
        let server = try FirewallServer.make(configuration: configuration, logger: logger)
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
        if let listen {
            guard let address = ListenAddress(listen) else {
                throw ValidationError("--listen must be HOST:PORT with an IP address, e.g. 127.0.0.1:8080 or [::1]:8080")
            }
            configuration.listen = address
        }
        if let data {
            guard !data.isEmpty else { throw ValidationError("--data must not be empty") }
            configuration.dataDirectory = data
        }
        if let store {
            guard let kind = ServerConfiguration.StoreKind(rawValue: store) else {
                throw ValidationError("--store must be sqlite or memory")
            }
            configuration.store = kind
        }
        if let logLevel {
            guard LogLevelName.parse(logLevel) != nil else {
                throw ValidationError("--log-level must be one of \(LogLevelName.names.joined(separator: ", "))")
            }
            configuration.logLevel = logLevel
        }
        if let problem = configuration.insecureListenProblem { throw ValidationError(problem) }
        return configuration
    }
}
