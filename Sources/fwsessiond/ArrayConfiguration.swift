import StrictJSON

/// How this node joins an array (`--store postgres`): the PostgreSQL URL, its node id and the URL
/// other nodes send clients to.
struct ArrayConfiguration: Sendable, Equatable {
    /// libpq URL or connection string.
    var url: String?
    /// This node's id: `[A-Za-z0-9._-]{1,64}`, unique in the array and kept across restarts.
    var nodeID: String?
    /// Where clients reach this node (the `Location` of redirects to it).
    var advertiseURL: String?
    /// How long a node's lease lasts: it is adopted this long after it was last heard of.
    var leaseSeconds: Double = 3

    /// Why these settings cannot run a node, if they cannot.
    var problem: String? {
        guard let url, !url.isEmpty else { return "--store postgres needs --postgres-url (or postgres.url in the configuration file)" }
        guard let nodeID, Self.isValidNodeID(nodeID) else {
            return "--store postgres needs --node-id NAME ([A-Za-z0-9._-]{1,64}; node.id in the configuration file)"
        }
        guard let advertiseURL, advertiseURL.hasPrefix("http://") || advertiseURL.hasPrefix("https://") else {
            return "--store postgres needs --advertise-url http(s)://HOST:PORT, where clients reach this node (node.advertiseUrl)"
        }
        return nil
    }

    static func isValidNodeID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }

    /// Reads `"postgres": {"url", "leaseSeconds"}` and `"node": {"id", "advertiseUrl"}`.
    static func apply(_ root: inout JSONObjectReader, to configuration: inout ArrayConfiguration) throws(JSONFieldError) {
        if var postgres = try root.optionalObject("postgres") {
            if let url = try postgres.optionalString("url") { configuration.url = url }
            if let lease = try postgres.optionalInt("leaseSeconds", in: 1...300) { configuration.leaseSeconds = Double(lease) }
            try postgres.rejectUnknownKeys()
        }
        if var node = try root.optionalObject("node") {
            if let id = try node.optionalString("id") {
                guard isValidNodeID(id) else { throw JSONFieldError(field: "node.id", reason: "must match [A-Za-z0-9._-]{1,64}") }
                configuration.nodeID = id
            }
            if let url = try node.optionalString("advertiseUrl") { configuration.advertiseURL = url }
            try node.rejectUnknownKeys()
        }
    }
}
