import Logging

/// The `--log-level` names.
enum LogLevelName {
    static let names = Logger.Level.allCases.map(\.rawValue)

    static func parse(_ text: String) -> Logger.Level? { Logger.Level(rawValue: text.lowercased()) }
}
