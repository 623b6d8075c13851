import FirewallSessions
import StrictJSON

/// Typed accessors for the domain's wire formats; each error names the field.
extension JSONObjectReader {
    /// A required `address:port` (`203.0.113.10:40000`, `[2001:db8::1]:40000`), port 1...65535.
    mutating func requiredSocketAddress(_ key: String) throws(JSONFieldError) -> SocketAddress {
        let text = try requiredString(key)
        switch SocketAddress.parse(text) {
        case .success(let address): return address
        case .failure(let error): throw JSONFieldError(field: path(of: key), reason: "is not valid: \(error.reason)")
        }
    }

    /// A required IP address without a port.
    mutating func requiredIPAddress(_ key: String) throws(JSONFieldError) -> IPAddress {
        let text = try requiredString(key)
        guard let address = IPAddress(text) else {
            throw JSONFieldError(field: path(of: key), reason: "must be an IPv4 or IPv6 address without a port")
        }
        return address
    }

    /// A required protocol GUID.
    mutating func requiredGUID(_ key: String) throws(JSONFieldError) -> ProtocolGUID {
        let text = try requiredString(key)
        guard let guid = ProtocolGUID(text) else {
            throw JSONFieldError(field: path(of: key), reason: "must be a GUID like 6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21")
        }
        return guid
    }

    /// An optional array of address ranges (`198.51.100.7`, `198.51.100.0/24`, `192.0.2.7-192.0.2.9`).
    mutating func optionalRanges(_ key: String) throws(JSONFieldError) -> [IPRange]? {
        guard let texts = try optionalStringArray(key) else { return nil }
        var ranges: [IPRange] = []
        ranges.reserveCapacity(texts.count)
        for (index, text) in texts.enumerated() {
            switch IPRange.parse(text) {
            case .success(let range): ranges.append(range)
            case .failure(let error): throw JSONFieldError(field: path(of: key, index: index), reason: "is not valid: \(error.reason)")
            }
        }
        return ranges
    }

    /// A required range (IncludeRange / ExcludeRange).
    mutating func requiredRange(_ key: String) throws(JSONFieldError) -> IPRange {
        let text = try requiredString(key)
        switch IPRange.parse(text) {
        case .success(let range): return range
        case .failure(let error): throw JSONFieldError(field: path(of: key), reason: "is not valid: \(error.reason)")
        }
    }

    /// A required name: 1...`maxLength` characters, no control characters.
    mutating func requiredText(_ key: String, maxLength: Int = 256) throws(JSONFieldError) -> String {
        let text = try requiredString(key)
        try Self.checkText(text, field: path(of: key), maxLength: maxLength)
        return text
    }

    /// An optional name with the same rules as `requiredText`.
    mutating func optionalText(_ key: String, maxLength: Int = 256) throws(JSONFieldError) -> String? {
        guard let text = try optionalString(key) else { return nil }
        try Self.checkText(text, field: path(of: key), maxLength: maxLength)
        return text
    }

    /// An optional list of names.
    mutating func optionalTextArray(_ key: String, maxCount: Int = 1000) throws(JSONFieldError) -> [String]? {
        guard let texts = try optionalStringArray(key) else { return nil }
        guard texts.count <= maxCount else {
            throw JSONFieldError(field: path(of: key), reason: "must have at most \(maxCount) items")
        }
        for (index, text) in texts.enumerated() {
            try Self.checkText(text, field: path(of: key, index: index), maxLength: 256)
        }
        return texts
    }

    static func checkText(_ text: String, field: String, maxLength: Int) throws(JSONFieldError) {
        guard !text.isEmpty else { throw JSONFieldError(field: field, reason: "must not be empty") }
        guard text.count <= maxLength else {
            throw JSONFieldError(field: field, reason: "must be at most \(maxLength) characters")
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw JSONFieldError(field: field, reason: "must not contain control characters")
        }
    }

    /// `rejectUnknownKeys`, then done.
    func finish() throws(JSONFieldError) { try rejectUnknownKeys() }
}

/// Runs strict body decoding: a decoder's field error becomes E_INVALIDARG naming the field; an
/// error of the domain, whose validating initializers the decoded values are handed to, passes
/// unchanged.
func decodingFields<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as JSONFieldError {
        throw APIError.invalid(error.field, error.reason)
    }
}
