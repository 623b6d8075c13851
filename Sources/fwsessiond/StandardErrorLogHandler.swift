import FirewallSessions
import Logging
import StrictJSON

/// Log events as lines on the buffered standard error (`LogOutput`), in the configured format:
/// text for people, `2026-11-26T21:11:47.123Z info fwsessiond: message key=value ...`, or one JSON
/// object per line for log shippers, `{"time", "level", "label", "message", ...metadata}`.
struct StandardErrorLogHandler: LogHandler {
    let label: String
    let format: ServerConfiguration.LogFormat
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, format: ServerConfiguration.LogFormat) {
        self.label = label
        self.format = format
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = Self.fields(metadata, metadataProvider?.get(), event.metadata)
        let time = Timestamp.now().rfc3339
        let line = switch format {
        case .text: textLine(event, time: time, fields: fields)
        case .json: jsonLine(event, time: time, fields: fields)
        }
        // Audit lines are batched with the access lines: the durable record is the store's trail.
        let isAudit = fields.contains { $0.key == "log" && $0.value == "audit" }
        LogOutput.shared.write(line, urgent: event.level >= .notice && !isAudit)
    }

    /// The handler's, the provider's and the event's metadata by key, a later one winning: a few
    /// pairs sorted in place cost less than merging dictionaries (this runs for every request).
    private static func fields(
        _ own: Logger.Metadata, _ provided: Logger.Metadata?, _ extra: Logger.Metadata?
    ) -> [(key: String, value: Logger.Metadata.Value)] {
        var pairs: [(key: String, value: Logger.Metadata.Value, rank: Int)] = []
        pairs.reserveCapacity(own.count + (provided?.count ?? 0) + (extra?.count ?? 0))
        for (rank, source) in [own, provided ?? [:], extra ?? [:]].enumerated() {
            for (key, value) in source { pairs.append((key, value, rank)) }
        }
        pairs.sort { $0.key != $1.key ? $0.key < $1.key : $0.rank < $1.rank }
        var fields: [(key: String, value: Logger.Metadata.Value)] = []
        fields.reserveCapacity(pairs.count)
        for (index, pair) in pairs.enumerated() where index + 1 == pairs.count || pairs[index + 1].key != pair.key {
            fields.append((pair.key, pair.value))
        }
        return fields
    }

    private func textLine(_ event: LogEvent, time: String, fields: [(key: String, value: Logger.Metadata.Value)]) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        line += time.utf8
        line.append(0x20)
        line += event.level.rawValue.utf8
        line.append(0x20)
        line += label.utf8
        line += ": ".utf8
        line += event.message.description.utf8
        for (key, value) in fields {
            line.append(0x20)
            line += key.utf8
            line.append(UInt8(ascii: "="))
            switch value {
            case .string(let text): line += text.utf8
            case .stringConvertible(let convertible): line += convertible.description.utf8
            default: line += "\(value)".utf8
            }
        }
        line.append(0x0A)
        return line
    }

    private func jsonLine(_ event: LogEvent, time: String, fields: [(key: String, value: Logger.Metadata.Value)]) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 256)
        writer.beginObject()
        writer.field("time", time)
        writer.field("level", event.level.rawValue)
        writer.field("label", label)
        writer.field("message", event.message.description)
        for (key, value) in fields where !["time", "level", "label", "message"].contains(key) {
            writer.key(key)
            Self.write(value, into: &writer)
        }
        writer.endObject()
        var line = writer.bytes
        line.append(0x0A)
        return line
    }

    private static func write(_ value: Logger.Metadata.Value, into writer: inout JSONWriter) {
        switch value {
        case .string(let text): writer.string(text)
        case .stringConvertible(let convertible): writer.string(convertible.description)
        case .array(let values):
            writer.beginArray()
            for item in values { write(item, into: &writer) }
            writer.endArray()
        case .dictionary(let values):
            writer.beginObject()
            for key in values.keys.sorted() {
                writer.key(key)
                write(values[key] ?? "", into: &writer)
            }
            writer.endObject()
        }
    }
}
