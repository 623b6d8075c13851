import FirewallAPI
import FirewallDataPlane
import FirewallSessions
import MicroHTTPServer

/// Everything `fwsessiond serve` runs with: defaults, then the configuration file, then flags.
struct ServerConfiguration: Sendable, Equatable {
    /// Where the durable state lives.
    enum StoreKind: String, Sendable, CaseIterable {
        case sqlite
        case memory
        /// One node of an array on PostgreSQL (`ArrayConfiguration`).
        case postgres
    }

    /// `HOST:PORT`s to listen on (several: dual stack, several interfaces), at least one.
    var listen = [ListenAddress(host: "127.0.0.1", port: 8080)]
    /// The data folder (the SQLite database lives there).
    var dataDirectory = "./data"
    /// sqlite (durable) or memory.
    var store = StoreKind.sqlite
    /// With `store` postgres: the array to join.
    var array = ArrayConfiguration()
    /// trace, debug, info, notice, warning, error, critical.
    var logLevel = "info"
    /// Log lines as text or as one JSON object per line.
    var logFormat = LogFormat.text

    /// How log lines look.
    enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json
    }
    /// Largest request body: a batch of 10,000 IPv6 decisions fits.
    var maxBodyBytes = 4_194_304
    /// Concurrent connections libmicrohttpd accepts.
    var maxConnections = 1024
    /// A connection idle (or sending too slowly) this long is closed.
    var connectionTimeoutSeconds = 30
    /// libmicrohttpd polling threads.
    var httpThreads = 1
    /// libmicrohttpd's memory per connection, for the request line, headers and read buffer.
    /// MHD zeroes it for every request, so it is kept small (16 KiB holds any sane request head).
    var connectionMemoryBytes = 16_384
    /// Quotas and timers of the domain.
    var settings = FirewallSettings()
    /// PEM files for HTTPS; all nil means plain HTTP.
    var tlsCertificatePath: String?
    var tlsKeyPath: String?
    /// A CA (PEM) that client certificates must chain to: mutual TLS.
    var tlsClientCAPath: String?
    /// The PEM texts, read from the paths when the configuration is resolved.
    var tls: HTTPTLSConfiguration?
    /// The `/events` stream's limits.
    var events = EventStreamSettings()
    /// How long the durable audit trail keeps its records (`"audit"`).
    var auditRetention = AuditRetention()
    /// The nftables data plane; nil (`"kind": "none"`) enforces nothing and needs no privileges.
    var dataPlane: DataPlaneSettings?
    /// Bearer tokens (hashed); none means access control is off and only loopback is allowed.
    var tokens: [AccessToken] = []

    /// Why this configuration must not run, if it must not: without tokens, anyone who can reach
    /// the port could open holes in the firewall, so only loopback is allowed.
    var insecureListenProblem: String? {
        guard tokens.isEmpty, let open = listen.first(where: { !$0.isLoopback }) else { return nil }
        return """
            refusing to listen on \(open) without access tokens: anyone who can reach it could open the firewall. \
            Create a token with `fwsessiond token create --role admin --name NAME`, add the printed entry to \
            "tokens" in the configuration file, or listen on 127.0.0.1.
            """
    }

    /// The settings that a reload (SIGHUP) applies while the server runs: tokens, TLS files, log
    /// level and format. Everything else takes effect at the next start.
    func withReloadable(from fresh: ServerConfiguration) -> ServerConfiguration {
        var merged = self
        merged.tokens = fresh.tokens
        merged.tlsCertificatePath = fresh.tlsCertificatePath
        merged.tlsKeyPath = fresh.tlsKeyPath
        merged.tlsClientCAPath = fresh.tlsClientCAPath
        merged.tls = fresh.tls
        merged.logLevel = fresh.logLevel
        merged.logFormat = fresh.logFormat
        return merged
    }

    /// Parses `HOST:PORT` items of `--listen` or `"listen"`, also comma-separated in one item.
    static func listenAddresses(_ items: [String]) -> Result<[ListenAddress], ListenAddressError> {
        var addresses: [ListenAddress] = []
        for item in items {
            for part in item.split(separator: ",", omittingEmptySubsequences: false) {
                let text = part.trimmingCharacters(in: " ")
                guard let address = ListenAddress(text) else { return .failure(ListenAddressError(text: text)) }
                addresses.append(address)
            }
        }
        return addresses.isEmpty ? .failure(ListenAddressError(text: "")) : .success(addresses)
    }

    /// The HTTP server's part, for one of the listen addresses.
    func httpConfiguration(for address: ListenAddress) -> HTTPServerConfiguration {
        var http = HTTPServerConfiguration()
        http.host = address.host
        http.port = address.port
        http.maxBodyBytes = maxBodyBytes
        http.connectionLimit = maxConnections
        http.connectionTimeoutSeconds = connectionTimeoutSeconds
        http.threadPoolSize = httpThreads
        http.connectionMemoryLimitBytes = connectionMemoryBytes
        // Heads over these get problem+json; they leave libmicrohttpd room for the head and the answer.
        http.maxRequestTargetBytes = connectionMemoryBytes / 4
        http.maxHeaderBytes = connectionMemoryBytes / 2
        http.tls = tls
        return http
    }
}

/// A `--listen` or `"listen"` item that is not `HOST:PORT` with an IP address.
struct ListenAddressError: Error {
    var text: String
}

extension StringProtocol {
    /// Without leading and trailing `character`s.
    fileprivate func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}

/// `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:80`.
struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: UInt16

    init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` with an IP literal host (IPv6 in brackets); port 0 picks a free port.
    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
            let port = UInt16(portText)
        else { return nil }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]") else { return nil }
            host = String(host.dropFirst().dropLast())
            guard let address = IPAddress(host), address.family == .v6 else { return nil }
        } else {
            guard let address = IPAddress(host), address.family == .v4 else { return nil }
        }
        self.host = host
        self.port = port
    }

    /// Whether only this machine can connect.
    var isLoopback: Bool {
        host == "::1" || host.hasPrefix("127.")
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
