/// A protocol definition: a GUID, a name and its primary connections.
public struct ProtocolDefinition: Sendable, Equatable {
    /// The GUID rules and RetroactiveAllowBind name it by.
    public var guid: ProtocolGUID
    /// A name for people, e.g. `FTP`.
    public var name: String
    /// The connections that start the protocol (the control channel, for FTP).
    public var primaryConnections: [PrimaryConnection]
    /// Predefined definitions cannot be changed or deleted.
    public var isBuiltIn: Bool

    /// Creates a definition.
    public init(guid: ProtocolGUID, name: String, primaryConnections: [PrimaryConnection], isBuiltIn: Bool = false) {
        self.guid = guid
        self.name = name
        self.primaryConnections = primaryConnections
        self.isBuiltIn = isBuiltIn
    }

    /// What the definition alone decides: 1 to 64 primary connections.
    public func validate() throws(FirewallError) {
        guard (1...64).contains(primaryConnections.count) else { throw .invalid("primaryConnections", "must have 1 to 64 items") }
    }
}

/// One primary connection of a protocol definition.
public struct PrimaryConnection: Sendable, Equatable {
    /// TCP or UDP.
    public var transport: TransportProtocol
    /// A port or an inclusive port range, 1...65535.
    public var ports: ClosedRange<UInt16>
    /// Which way the connection is opened.
    public var direction: ConnectionDirection

    /// Creates a primary connection.
    public init(transport: TransportProtocol, ports: ClosedRange<UInt16>, direction: ConnectionDirection) {
        self.transport = transport
        self.ports = ports
        self.direction = direction
    }

    /// `21` or `1024-65535`.
    public var portsText: String {
        ports.lowerBound == ports.upperBound ? "\(ports.lowerBound)" : "\(ports.lowerBound)-\(ports.upperBound)"
    }

    /// Parses `21` or `1024-65535` (ports 1...65535, low <= high).
    public static func parsePorts(_ text: String) -> ClosedRange<UInt16>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        var values: [UInt16] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 5, part.first != "0", part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = UInt16(part), value >= 1
            else { return nil }
            values.append(value)
        }
        guard let low = values.first, let high = values.last, low <= high else { return nil }
        return low...high
    }
}

/// The direction of a primary connection.
public enum ConnectionDirection: String, Sendable, Hashable, CaseIterable {
    case outbound
    case inbound
    case sendReceive = "send-receive"
}
