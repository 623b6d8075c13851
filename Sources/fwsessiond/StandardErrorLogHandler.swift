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
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let time = Timestamp.now().rfc3339
        let line = switch format {
        case .text: textLine(event, time: time, metadata: merged)
        case .json: jsonLine(event, time: time, metadata: merged)
        }
        // Audit lines are batched with the access lines: the durable record is the store's trail.
        LogOutput.shared.write(line, urgent: event.level >= .notice && merged["log"] != "audit")
    }

    private func textLine(_ event: LogEvent, time: String, metadata: Logger.Metadata) -> [UInt8] {
        var line = time
        line += " \(event.level.rawValue) \(label): \(event.message)"
        for key in metadata.keys.sorted() {
            line += " \(key)=\(metadata[key].map { "\($0)" } ?? "")"
        }
        line += "\n"
        return Array(line.utf8)
    }

    private func jsonLine(_ event: LogEvent, time: String, metadata: Logger.Metadata) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 256)
        writer.beginObject()
        writer.field("time", time)
        writer.field("level", event.level.rawValue)
        writer.field("label", label)
        writer.field("message", event.message.description)
        for key in metadata.keys.sorted() where !["time", "level", "label", "message"].contains(key) {
            writer.key(key)
            Self.write(metadata[key] ?? "", into: &writer)
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
