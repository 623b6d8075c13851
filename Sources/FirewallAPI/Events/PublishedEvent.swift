import FirewallSessions
import StrictJSON

/// An event with its stream id, encoded once as an SSE frame that every subscriber shares.
struct PublishedEvent: Sendable {
    let id: UInt64
    let kind: DomainEvent.Kind
    let sessionID: String?
    let frame: [UInt8]

    init(id: UInt64, event: DomainEvent, time: Timestamp) {
        self.id = id
        kind = event.kind
        sessionID = event.sessionID
        var writer = JSONWriter(reservingCapacity: 512)
        writer.beginObject()
        writer.field("id", id)
        writer.field("type", event.kind.rawValue)
        writer.field("time", time.rfc3339)
        writer.field("sessionId", event.sessionID)
        if let bind = event.bind {
            writer.key("bind")
            writer.bind(bind)
        }
        if let session = event.session {
            writer.key("session")
            writer.session(session)
        }
        if let version = event.policyVersion { writer.field("policyVersion", version) }
        writer.endObject()
        frame = SSEFrame.make(id: id, event: event.kind.rawValue, data: writer.bytes)
    }
}

/// Server-Sent Events framing.
enum SSEFrame {
    /// `id:`, `event:` and one `data:` line (the JSON has no newlines), then a blank line.
    static func make(id: UInt64?, event: String, data: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(data.count + 48)
        if let id { frame += Array("id: \(id)\n".utf8) }
        frame += Array("event: \(event)\n".utf8)
        frame += Array("data: ".utf8)
        frame += data
        frame += [0x0A, 0x0A]
        return frame
    }

    /// A comment line: ignored by clients, keeps proxies from closing an idle stream.
    static let heartbeat = Array(": heartbeat\n\n".utf8)

    /// The first bytes of every stream: how long a client waits before reconnecting.
    static let preamble = Array("retry: 3000\n\n".utf8)
}
