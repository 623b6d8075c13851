import Logging

/// Human-readable log lines on the buffered standard error:
/// `2026-11-26T21:11:47.123Z info fwsessiond: message key=value ...`.
struct TextLogHandler: LogHandler {
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
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = LogTimestamp.now()
        line += " \(event.level.rawValue) \(label): \(event.message)"
        for key in merged.keys.sorted() {
            line += " \(key)=\(merged[key].map { "\($0)" } ?? "")"
        }
        line += "\n"
        LogOutput.shared.write(Array(line.utf8), urgent: event.level >= .notice)
    }
}
