import FirewallSessions
import StrictJSON

/// How domain values are written to and read from columns. Text forms are the wire forms
/// (addresses, ranges, GUIDs), so the database can be read with the sqlite3 shell.
enum RowCoding {
    static func text(_ ranges: IPRangeSet) -> String {
        ranges.ranges.map(\.description).joined(separator: " ")
    }

    static func ranges(_ text: String, _ context: String) throws(PersistenceError) -> IPRangeSet {
        var set = IPRangeSet()
        for part in text.split(separator: " ") {
            guard case .success(let range) = IPRange.parse(part) else {
                throw PersistenceError("stored \(context) has a bad range '\(part)'")
            }
            set.include(range)
        }
        return set
    }

    static func jsonText(_ strings: [String]) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        for string in strings { writer.string(string) }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func strings(_ text: String, _ context: String) throws(PersistenceError) -> [String] {
        guard case .array(let items)? = try? JSONParser.parse(Array(text.utf8)) else {
            throw PersistenceError("stored \(context) is not a JSON array")
        }
        var result: [String] = []
        for item in items {
            guard case .string(let string) = item else { throw PersistenceError("stored \(context) holds a non-string") }
            result.append(string)
        }
        return result
    }

    static func text(_ protocols: RuleProtocols) -> String {
        switch protocols {
        case .any: "any"
        case .only(let list): "only " + list.map(\.description).joined(separator: " ")
        case .allExcept(let list): "except " + list.map(\.description).joined(separator: " ")
        }
    }

    static func ruleProtocols(_ text: String) throws(PersistenceError) -> RuleProtocols {
        let parts = text.split(separator: " ")
        guard let kind = parts.first else { throw PersistenceError("stored rule has empty protocols") }
        var guids: [ProtocolGUID] = []
        for part in parts.dropFirst() {
            guard let guid = ProtocolGUID(part) else { throw PersistenceError("stored rule has a bad GUID '\(part)'") }
            guids.append(guid)
        }
        switch kind {
        case "any": return .any
        case "only": return .only(guids)
        case "except": return .allExcept(guids)
        default: throw PersistenceError("stored rule has unknown protocols '\(text)'")
        }
    }

    static func text(_ connections: [PrimaryConnection]) -> String {
        connections.map { "\($0.transport.rawValue) \($0.portsText) \($0.direction.rawValue)" }.joined(separator: ";")
    }

    static func primaryConnections(_ text: String) throws(PersistenceError) -> [PrimaryConnection] {
        var result: [PrimaryConnection] = []
        for item in text.split(separator: ";") {
            let parts = item.split(separator: " ").map(String.init)
            guard parts.count == 3, let transport = TransportProtocol(rawValue: parts[0]),
                let ports = PrimaryConnection.parsePorts(parts[1]), let direction = ConnectionDirection(rawValue: parts[2])
            else { throw PersistenceError("stored protocol has a bad primary connection '\(item)'") }
            result.append(PrimaryConnection(transport: transport, ports: ports, direction: direction))
        }
        return result
    }

    static func socketAddress(_ text: String) throws(PersistenceError) -> SocketAddress {
        guard case .success(let address) = SocketAddress.parse(text) else {
            throw PersistenceError("stored bind has a bad address '\(text)'")
        }
        return address
    }

    static func ipAddress(_ text: String) throws(PersistenceError) -> IPAddress {
        guard let address = IPAddress(text) else { throw PersistenceError("stored session has a bad address '\(text)'") }
        return address
    }
}
