import StrictJSON

/// The values a flag of `serve` and a key of the configuration file both set (`--listen` and
/// `listen`, ...), each read and checked here once, whichever way it came; the caller names the
/// setting in the message.
enum SettingValue {
    /// Why a value does not fit its setting: the end of a sentence that starts with the setting's
    /// flag (`--store must be one of ...`) or key (`store: must be one of ...`).
    struct Invalid: Error {
        var reason: String
    }

    /// One or more `HOST:PORT` with an IP literal host (items may hold several, separated by commas).
    static func listen(_ items: [String]) throws(Invalid) -> [ListenAddress] {
        guard case .success(let addresses) = ServerConfiguration.listenAddresses(items) else {
            throw Invalid(
                reason: "must be HOST:PORT with an IP address, e.g. 127.0.0.1:8080 or [::1]:8080, or several of them")
        }
        return addresses
    }

    /// A folder path.
    static func dataDirectory(_ text: String) throws(Invalid) -> String {
        guard !text.isEmpty else { throw Invalid(reason: "must not be empty") }
        return text
    }

    /// A log level name, in any case.
    static func logLevel(_ text: String) throws(Invalid) -> String {
        guard LogLevelName.parse(text) != nil else {
            throw Invalid(reason: "must be one of \(LogLevelName.names.joined(separator: ", "))")
        }
        return text
    }

    /// The reader of a setting that takes one of a few names (`sqlite`, `memory`, `postgres`).
    static func choice<Choice: CaseIterable & RawRepresentable>(_ type: Choice.Type) -> (String) throws(Invalid) -> Choice
    where Choice.RawValue == String {
        { text throws(Invalid) in
            guard let value = Choice(rawValue: text) else {
                throw Invalid(reason: "must be one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
    }
}

extension JSONObjectReader {
    /// The string at `key`, if given, as `read` makes it a setting's value (a bad one names the key).
    mutating func optionalSetting<Value>(_ key: String, _ read: (String) throws(SettingValue.Invalid) -> Value)
        throws(JSONFieldError) -> Value?
    {
        guard let text = try optionalString(key) else { return nil }
        do {
            return try read(text)
        } catch {
            throw JSONFieldError(field: path(of: key), reason: error.reason)
        }
    }
}
