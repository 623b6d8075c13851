import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// JSON renderings of the domain, with keys in a fixed order.
extension JSONWriter {
    mutating func session(_ session: Session) {
        beginObject()
        field("id", session.id)
        field("clientAddress", session.clientAddress.description)
        field("clientType", session.clientType.rawValue)
        field("clientMachineName", session.clientMachineName)
        key("user")
        if let user = session.user {
            beginObject()
            field("name", user.name)
            field("groups", strings: user.groups)
            endObject()
        } else {
            null()
        }
        field("state", session.state.rawValue)
        field("createdAt", session.createdAt.rfc3339)
        field("terminatingAt", session.terminatingAt?.rfc3339)
        field("expiresAt", session.expiresAt?.rfc3339)
        field("bindCount", session.bindIDs.count)
        endObject()
    }

    mutating func bind(_ bind: Bind) {
        beginObject()
        field("id", bind.id.description)
        field("sessionId", bind.sessionID)
        field("protocol", bind.transport.rawValue)
        field("address", bind.address.description)
        field("state", bind.state.rawValue)
        field("protocolGuid", bind.grant?.protocolGUID.description)
        field("flags", strings: bind.grant?.flags.names ?? [])
        key("ipFilter")
        if case .inline(let ranges)? = bind.grant?.ipFilter {
            beginObject()
            field("ranges", strings: ranges.ranges.map(\.description))
            endObject()
        } else {
            null()
        }
        if case .stored(let id)? = bind.grant?.ipFilter { field("ipFilterId", id) } else { field("ipFilterId", nil as String?) }
        field("receiveBufferBytes", bind.receiveBufferBytes)
        field("createdAt", bind.createdAt.rfc3339)
        field("allowedAt", bind.grant?.allowedAt.rfc3339)
        field("terminatingAt", bind.terminatingAt?.rfc3339)
        field("expiresAt", bind.expiresAt?.rfc3339)
        key("counters")
        beginObject()
        field("accepted", bind.acceptedCount)
        field("discarded", bind.discardedCount)
        endObject()
        endObject()
    }

    /// Decisions as an array: the hottest answer (a batch holds up to 10,000), so the constant
    /// start of each object is encoded once per verdict and reason, and the ids, which never need
    /// escaping (session ids are `[A-Za-z0-9._-]`, bind ids `b-N`), are copied as they are.
    mutating func decisions(_ decisions: [Decision]) {
        beginArray()
        var object: [UInt8] = []
        object.reserveCapacity(160)
        for decision in decisions {
            guard decision.sessionID?.utf8.allSatisfy(DecisionPrefixes.isPlain) ?? true else {
                self.decision(decision)
                continue
            }
            object.removeAll(keepingCapacity: true)
            object += DecisionPrefixes.prefix(decision.verdict, decision.reason)
            if let session = decision.sessionID {
                object.append(UInt8(ascii: "\""))
                object += session.utf8
                object.append(UInt8(ascii: "\""))
            } else {
                object += "null".utf8
            }
            object += #","bindId":"#.utf8
            if let bind = decision.bindID {
                object += #""b-"#.utf8
                object += String(bind.rawValue).utf8
                object.append(UInt8(ascii: "\""))
            } else {
                object += "null".utf8
            }
            object.append(UInt8(ascii: "}"))
            rawJSON(object)
        }
        endArray()
    }

    mutating func decision(_ decision: Decision) {
        beginObject()
        field("verdict", decision.verdict.rawValue)
        field("reason", decision.reason.rawValue)
        field("sessionId", decision.sessionID)
        field("bindId", decision.bindID?.description)
        endObject()
    }

    mutating func protocolDefinition(_ definition: ProtocolDefinition) {
        beginObject()
        field("guid", definition.guid.description)
        field("name", definition.name)
        key("primaryConnections")
        beginArray()
        for connection in definition.primaryConnections {
            beginObject()
            field("protocol", connection.transport.rawValue)
            field("ports", connection.portsText)
            field("direction", connection.direction.rawValue)
            endObject()
        }
        endArray()
        field("builtIn", definition.isBuiltIn)
        endObject()
    }

    mutating func rule(_ positioned: PositionedRule) {
        let rule = positioned.rule
        beginObject()
        field("id", rule.id)
        field("name", rule.name)
        field("position", positioned.position)
        field("enabled", rule.enabled)
        field("action", rule.action.rawValue)
        key("protocols")
        switch rule.protocols {
        case .any: string("any")
        case .only(let guids): stringArray(guids.map(\.description))
        case .allExcept(let guids):
            beginObject()
            field("except", strings: guids.map(\.description))
            endObject()
        }
        field("users", strings: rule.users)
        field("sourceAddresses", strings: rule.sourceAddresses.map { $0.ranges.map(\.description) })
        field("isDefault", positioned.isDefault)
        endObject()
    }

    mutating func ipFilter(_ filter: StoredIPFilter) {
        beginObject()
        field("id", filter.id)
        field("ranges", strings: filter.ranges.ranges.map(\.description))
        field("createdAt", filter.createdAt.rfc3339)
        field("updatedAt", filter.updatedAt.rfc3339)
        endObject()
    }

    mutating func stringArray(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    /// `{"items": [...], "nextCursor": ...}`.
    mutating func page<Item>(_ page: Page<Item>, item: (inout JSONWriter, Item) -> Void) {
        beginObject()
        key("items")
        beginArray()
        for element in page.items { item(&self, element) }
        endArray()
        field("nextCursor", page.nextCursor)
        endObject()
    }
}

/// Builds JSON responses.
enum JSONResponse {
    static func make(
        status: Int = 200, headers extra: [(name: String, value: String)] = [], hresult: HResult = .S_OK,
        _ write: (inout JSONWriter) -> Void
    ) -> APIResponse {
        var writer = JSONWriter(reservingCapacity: 512)
        write(&writer)
        var headers = HTTPHeaders([(name: "Content-Type", value: "application/json")])
        for header in extra { headers.add(name: header.name, value: header.value) }
        return APIResponse(HTTPResponse(status: status, headers: headers, body: writer.bytes), hresult: hresult)
    }

    /// 201 with `Location`.
    static func created(at location: String, _ write: (inout JSONWriter) -> Void) -> APIResponse {
        make(status: 201, headers: [(name: "Location", value: location)], write)
    }
}

/// `{"verdict":"…","reason":"…","sessionId":` for every verdict and reason, encoded once.
enum DecisionPrefixes {
    /// Looked up by `prefix(_:_:)` with a switch rather than a dictionary: these enums hash
    /// through their `String` raw values, which showed in the batch profile.
    private static let all: [[UInt8]] = Verdict.allCases.flatMap { verdict in
        DecisionReason.allCases.map { reason in
            Array(#"{"verdict":"\#(verdict.rawValue)","reason":"\#(reason.rawValue)","sessionId":"#.utf8)
        }
    }

    static func prefix(_ verdict: Verdict, _ reason: DecisionReason) -> [UInt8] {
        let row: Int
        switch verdict {
        case .accept: row = 0
        case .discard: row = 1
        }
        let column: Int
        switch reason {
        case .noBind: column = 0
        case .bindPending: column = 1
        case .bindTerminating: column = 2
        case .ipFilter: column = 3
        case .allowed: column = 4
        case .bidirectionalReply: column = 5
        case .notBidirectional: column = 6
        case .notRecentPeer: column = 7
        }
        return all[row * DecisionReason.allCases.count + column]
    }

    /// A byte that needs no escaping in a JSON string.
    static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
    }
}
