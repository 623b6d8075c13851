import Logging
import StrictJSON

/// Writes each log event as one JSON object per line on the buffered standard error, for log shippers:
/// `{"time", "level", "label", "message", ...metadata}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var writer = JSONWriter(reservingCapacity: 256)
        writer.beginObject()
        writer.field("time", LogTimestamp.now())
        writer.field("level", event.level.rawValue)
        writer.field("label", label)
        writer.field("message", event.message.description)
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for key in merged.keys.sorted() where !["time", "level", "label", "message"].contains(key) {
            writer.key(key)
            Self.write(merged[key] ?? "", into: &writer)
        }
        writer.endObject()
        var line = writer.bytes
        line.append(0x0A)
        LogOutput.shared.write(line, urgent: event.level >= .notice)
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
