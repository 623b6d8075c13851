import FirewallAPI
import FirewallDataPlane
import FirewallSessions
import StrictJSON

#if canImport(Glibc)
import Glibc
#endif

/// Reads the JSON configuration file strictly: an unknown key or a bad value stops the start with
/// a message naming it (`limits.maxBinds: must be an integer in 1...100000000`).
enum ConfigurationFile {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Applies the file at `path` over `configuration`.
    static func apply(path: String, to configuration: inout ServerConfiguration) throws(Failure) {
        let bytes = try read(path)
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw Failure(description: "\(path): not valid JSON: \(error.reason) at byte \(error.offset)")
        }
        do {
            try apply(value, to: &configuration)
        } catch {
            throw Failure(description: "\(path): \(error.field.isEmpty ? "the file" : error.field): \(error.reason)")
        }
    }

    /// Applies a parsed document.
    static func apply(_ value: JSONValue, to configuration: inout ServerConfiguration) throws(JSONFieldError) {
        var root = try JSONObjectReader(value)
        // "listen": one HOST:PORT, or several (an array, or one string with commas).
        let listenItems: [String]?
        if case .array? = root.object["listen"] {
            listenItems = try root.optionalStringArray("listen")
        } else {
            listenItems = try root.optionalString("listen").map { [$0] }
        }
        if let listenItems {
            do {
                configuration.listen = try SettingValue.listen(listenItems)
            } catch {
                throw JSONFieldError(field: "listen", reason: error.reason)
            }
        }
        if let data = try root.optionalSetting("data", SettingValue.dataDirectory) { configuration.dataDirectory = data }
        if let store = try root.optionalSetting("store", SettingValue.choice(ServerConfiguration.StoreKind.self)) {
            configuration.store = store
        }
        if let level = try root.optionalSetting("logLevel", SettingValue.logLevel) { configuration.logLevel = level }
        if let format = try root.optionalSetting("logFormat", SettingValue.choice(ServerConfiguration.LogFormat.self)) {
            configuration.logFormat = format
        }
        if var limits = try root.optionalObject("limits") {
            func int(_ key: String, _ range: ClosedRange<Int64>) throws(JSONFieldError) -> Int? {
                try limits.optionalInt(key, in: range).map { Int($0) }
            }
            if let value = try int("maxBodyBytes", 1024...1_073_741_824) { configuration.maxBodyBytes = value }
            if let value = try int("maxConnections", 1...65_536) { configuration.maxConnections = value }
            if let value = try int("connectionTimeoutSeconds", 1...3600) { configuration.connectionTimeoutSeconds = value }
            if let value = try int("httpThreads", 1...64) { configuration.httpThreads = value }
            if let value = try int("connectionMemoryBytes", 8192...1_048_576) { configuration.connectionMemoryBytes = value }
            if let value = try int("maxPendingBindsPerSession", 1...1_000_000) { configuration.settings.maxPendingBindsPerSession = value }
            if let value = try int("maxBinds", 1...100_000_000) { configuration.settings.maxBinds = value }
            if let value = try int("maxSessions", 1...100_000_000) { configuration.settings.maxSessions = value }
            if let value = try int("maxIpFilters", 1...10_000_000) { configuration.settings.maxIPFilters = value }
            if let value = try int("maxRangesPerFilter", 1...10_000_000) { configuration.settings.maxRangesPerFilter = value }
            if let value = try int("maxRules", 1...1_000_000) { configuration.settings.maxRules = value }
            if let value = try int("maxProtocols", 1...1_000_000) { configuration.settings.maxProtocols = value }
            if let value = try int("recentPeersPerBind", 1...65_536) { configuration.settings.recentPeersPerBind = value }
            if let value = try int("quotaRetryAfterSeconds", 1...3600) { configuration.settings.quotaRetryAfterSeconds = value }
            try limits.rejectUnknownKeys()
        }
        if var timers = try root.optionalObject("timers") {
            func seconds(_ key: String) throws(JSONFieldError) -> Double? {
                try timers.optionalInt(key, in: 1...31_536_000).map { Double($0) }
            }
            if let value = try seconds("pendingTimeoutSeconds") { configuration.settings.pendingTimeoutSeconds = value }
            if let value = try seconds("gracePeriodSeconds") { configuration.settings.gracePeriodSeconds = value }
            if let value = try seconds("bidirectionalWindowSeconds") { configuration.settings.bidirectionalWindowSeconds = value }
            if let value = try seconds("approvalLifetimeSeconds") { configuration.settings.approvalLifetimeSeconds = value }
            if let value = try seconds("minApprovalLifetimeSeconds") { configuration.settings.minApprovalLifetimeSeconds = value }
            if let value = try seconds("maxApprovalLifetimeSeconds") { configuration.settings.maxApprovalLifetimeSeconds = value }
            if let value = try seconds("approvalIdleTimeoutSeconds") { configuration.settings.approvalIdleTimeoutSeconds = value }
            if let value = try seconds("sessionIdleTimeoutSeconds") { configuration.settings.sessionIdleTimeoutSeconds = value }
            try timers.rejectUnknownKeys()
            let settings = configuration.settings
            if let cap = settings.maxApprovalLifetimeSeconds, cap < settings.minApprovalLifetimeSeconds {
                throw JSONFieldError(field: "timers.maxApprovalLifetimeSeconds", reason: "must not be below timers.minApprovalLifetimeSeconds")
            }
        }
        if var tls = try root.optionalObject("tls") {
            configuration.tlsCertificatePath = try tls.optionalString("certificate")
            configuration.tlsKeyPath = try tls.optionalString("privateKey")
            configuration.tlsClientCAPath = try tls.optionalString("clientCA")
            try tls.rejectUnknownKeys()
        }
        var heartbeatGiven = false
        if var events = try root.optionalObject("events") {
            heartbeatGiven = events.object["heartbeatSeconds"] != nil
            func int(_ key: String, _ range: ClosedRange<Int64>) throws(JSONFieldError) -> Int? {
                try events.optionalInt(key, in: range).map { Int($0) }
            }
            if let value = try int("ringBufferSize", 1...10_000_000) { configuration.events.ringBufferSize = value }
            if let value = try int("heartbeatSeconds", 1...3600) { configuration.events.heartbeatSeconds = value }
            if let value = try int("subscriberBufferBytes", 1024...1_073_741_824) { configuration.events.subscriberBufferBytes = value }
            if let value = try int("maxSubscribers", 1...100_000) { configuration.events.maxSubscribers = value }
            try events.rejectUnknownKeys()
        }
        if configuration.events.heartbeatSeconds >= configuration.connectionTimeoutSeconds {
            guard !heartbeatGiven else {
                throw JSONFieldError(
                    field: "events.heartbeatSeconds",
                    reason: "must be below limits.connectionTimeoutSeconds (\(configuration.connectionTimeoutSeconds)), or idle streams are cut off")
            }
            // Not chosen by the operator: keep idle streams alive under the shorter timeout.
            configuration.events.heartbeatSeconds = max(1, configuration.connectionTimeoutSeconds / 2)
        }
        if var audit = try root.optionalObject("audit") {
            if let days = try audit.optionalInt("retentionDays", in: 1...3650) {
                configuration.auditRetention.maxAgeSeconds = Double(days) * 86_400
            }
            if let records = try audit.optionalInt("maxRecords", in: 1_000...1_000_000_000) {
                configuration.auditRetention.maxRecords = Int(records)
            }
            try audit.rejectUnknownKeys()
        }
        try DataPlaneConfiguration.apply(&root, to: &configuration.dataPlane)
        if let tokens = try root.optionalObjectArray("tokens") {
            configuration.tokens = try parseTokens(tokens)
        }
        try ArrayConfiguration.apply(&root, to: &configuration.array)
        try root.rejectUnknownKeys()
    }

    /// `[{"name", "role", "sha256"}]`: names unique, roles known, hashes 64 hex digits and unique (one
    /// token must not stand for two entries, whose roles could differ).
    private static func parseTokens(_ entries: [JSONObjectReader]) throws(JSONFieldError) -> [AccessToken] {
        var tokens: [AccessToken] = []
        for var entry in entries {
            let name = try entry.requiredString("name")
            guard !name.isEmpty, name.count <= 64, name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
                throw JSONFieldError(field: entry.path(of: "name"), reason: "must be 1 to 64 printable characters without spaces")
            }
            guard !tokens.contains(where: { $0.name == name }) else {
                throw JSONFieldError(field: entry.path(of: "name"), reason: "is used by another token")
            }
            let role = try entry.requiredEnum("role", Role.self)
            let hash = try entry.requiredString("sha256")
            guard hash.utf8.count == 64, let token = AccessToken(name: name, role: role, sha256Hex: hash) else {
                throw JSONFieldError(field: entry.path(of: "sha256"), reason: "must be the SHA-256 of the token as 64 hex digits")
            }
            if let same = tokens.first(where: { $0.sha256 == token.sha256 }) {
                throw JSONFieldError(
                    field: entry.path(of: "sha256"), reason: "is the hash of token '\(same.name)' too; each token needs its own entry")
            }
            try entry.rejectUnknownKeys()
            tokens.append(token)
        }
        return tokens
    }

    static func read(_ path: String) throws(Failure) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            let code = errno
            let hint = code == EACCES || code == EPERM ? " (the server runs as uid \(getuid()); make the file readable by it)" : ""
            throw Failure(description: "\(path): cannot open: \(String(cString: strerror(code)).lowercased())\(hint)")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count > 0 { bytes.append(contentsOf: buffer[0..<count]) }
            if count < buffer.count { break }
            if bytes.count > 16 * 1_048_576 { throw Failure(description: "\(path): larger than 16 MiB") }
        }
        return bytes
    }
}
