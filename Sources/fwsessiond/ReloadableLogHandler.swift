import Logging
import Synchronization

/// The log level and format the server runs with, which a reload (SIGHUP) may change: a logger
/// copies its handler, so the handlers read these on every line instead of keeping their own.
final class LogSettings: Sendable {
    static let shared = LogSettings()

    private let level = Atomic<UInt8>(LogSettings.index(of: .info))
    private let json = Atomic<Bool>(false)

    /// The level lines must reach to be written.
    var currentLevel: Logger.Level { Logger.Level.allCases[Int(level.load(ordering: .relaxed))] }

    /// Whether lines are JSON objects (else text).
    var writesJSON: Bool { json.load(ordering: .relaxed) }

    /// Takes a new level and format; lines logged from now on follow them.
    func update(level newLevel: Logger.Level, format: ServerConfiguration.LogFormat) {
        level.store(Self.index(of: newLevel), ordering: .relaxed)
        json.store(format == .json, ordering: .relaxed)
    }

    private static func index(of level: Logger.Level) -> UInt8 {
        UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 2)
    }
}

/// The handler `fwsessiond serve` bootstraps: writes through the text or the JSON handler, at the
/// level, that `LogSettings` hold now.
struct ReloadableLogHandler: LogHandler {
    private var text: StandardErrorLogHandler
    private var json: StandardErrorLogHandler
    /// A level set on one logger (`logger.logLevel = ...`) wins over the shared one for that logger.
    private var ownLevel: Logger.Level?

    init(label: String) {
        text = StandardErrorLogHandler(label: label, format: .text)
        json = StandardErrorLogHandler(label: label, format: .json)
    }

    var logLevel: Logger.Level {
        get { ownLevel ?? LogSettings.shared.currentLevel }
        set { ownLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { text.metadata }
        set {
            text.metadata = newValue
            json.metadata = newValue
        }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { text.metadataProvider }
        set {
            text.metadataProvider = newValue
            json.metadataProvider = newValue
        }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { text[metadataKey: key] }
        set {
            text[metadataKey: key] = newValue
            json[metadataKey: key] = newValue
        }
    }

    func log(event: LogEvent) {
        if LogSettings.shared.writesJSON { json.log(event: event) } else { text.log(event: event) }
    }
}
