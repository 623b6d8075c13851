/// A COM result code, as the Firewall service API returns them.
///
/// The static members carry the names of the HRESULT table in API.md; `table` holds, once per code,
/// everything the wire says about it (name, HTTP status, problem title), so no code is spelled or
/// mapped two ways.
public struct HResult: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit value.
    public let rawValue: UInt32

    /// Wraps a raw 32-bit value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Done.
    public static let S_OK = HResult(rawValue: 0x0000_0000)
    /// The bind exists and was already allowed; nothing changed.
    public static let S_FALSE = HResult(rawValue: 0x0000_0001)
    /// A parameter is invalid.
    public static let E_INVALIDARG = HResult(rawValue: 0x8007_0057)
    /// HRESULT_FROM_WIN32(ERROR_NOT_FOUND): no such object.
    public static let ERROR_NOT_FOUND = HResult(rawValue: 0x8007_0490)
    /// The bind or its session exists but is terminating (also: the server is shutting down).
    public static let FWX_E_TERMINATING = HResult(rawValue: 0xC004_0001)
    /// The access rules do not allow the session's user the protocol (see DOMAIN.md on the name).
    public static let FWX_E_PROTOCOL_RULES_DENIED = HResult(rawValue: 0xC004_000D)
    /// HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS): an object with that id exists.
    public static let FWX_E_ALREADY_EXISTS = HResult(rawValue: 0x8007_00B7)
    /// HRESULT_FROM_WIN32(WSAEADDRINUSE): the protocol and address are bound already.
    public static let WSAEADDRINUSE = HResult(rawValue: 0x8007_2740)
    /// HRESULT_FROM_WIN32(ERROR_BUSY): the object is still referenced.
    public static let ERROR_BUSY = HResult(rawValue: 0x8007_00AA)
    /// Too many pending requests: a quota is reached.
    public static let FWX_E_IS_BUSY = HResult(rawValue: 0xC004_0011)
    /// The caller may not do this.
    public static let E_ACCESSDENIED = HResult(rawValue: 0x8007_0005)
    /// HRESULT_FROM_WIN32(ERROR_REVISION_MISMATCH): an If-Match precondition names an old policy version.
    public static let ERROR_REVISION_MISMATCH = HResult(rawValue: 0x8007_051A)
    /// HRESULT_FROM_WIN32(ERROR_INVALID_FUNCTION): the method is not supported on this resource.
    public static let ERROR_INVALID_FUNCTION = HResult(rawValue: 0x8007_0001)
    /// HRESULT_FROM_WIN32(ERROR_INVALID_STATE): the object is in a state that does not allow the call.
    public static let ERROR_INVALID_STATE = HResult(rawValue: 0x8007_139F)
    /// HRESULT_FROM_WIN32(ERROR_WRITE_FAULT): the durable store cannot be written.
    public static let ERROR_WRITE_FAULT = HResult(rawValue: 0x8007_001D)
    /// Unexpected failure.
    public static let E_FAIL = HResult(rawValue: 0x8000_4005)

    /// One row of the HRESULT table.
    public struct Row: Sendable, Equatable {
        /// The code.
        public let hresult: HResult
        /// The symbolic name as API.md's table writes it, e.g. `HRESULT_FROM_WIN32(ERROR_NOT_FOUND)`.
        public let name: String
        /// The HTTP status of an answer with this code. The few conditions that share a code with
        /// another status (a missing token is 401 E_ACCESSDENIED, not 403) are named in the API layer.
        public let status: Int
        /// The title of a problem+json answer.
        public let title: String

        init(_ hresult: HResult, _ name: String, _ status: Int, _ title: String) {
            self.hresult = hresult
            self.name = name
            self.status = status
            self.title = title
        }
    }

    /// The HRESULT table (API.md's mapping, and the codes the server added where API.md leaves a
    /// choice open): every code this server produces, once, with everything the wire says about it.
    public static let table: [Row] = [
        Row(.S_OK, "S_OK", 200, "Success"),
        Row(.S_FALSE, "S_FALSE", 200, "Success"),
        Row(.E_INVALIDARG, "E_INVALIDARG", 400, "Invalid parameter"),
        Row(.ERROR_NOT_FOUND, "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)", 404, "Not found"),
        Row(.FWX_E_TERMINATING, "FWX_E_TERMINATING", 409, "Terminating"),
        Row(.FWX_E_PROTOCOL_RULES_DENIED, "FWX_E_PROTOCOL_RULES_DENIED", 403, "Denied by the access rules"),
        Row(.FWX_E_ALREADY_EXISTS, "FWX_E_ALREADY_EXISTS", 409, "Already exists"),
        Row(.WSAEADDRINUSE, "HRESULT_FROM_WIN32(WSAEADDRINUSE)", 409, "Address already bound"),
        Row(.ERROR_BUSY, "HRESULT_FROM_WIN32(ERROR_BUSY)", 409, "Still in use"),
        Row(.FWX_E_IS_BUSY, "FWX_E_IS_BUSY", 429, "Quota reached"),
        Row(.E_ACCESSDENIED, "E_ACCESSDENIED", 403, "Access denied"),
        Row(.ERROR_REVISION_MISMATCH, "HRESULT_FROM_WIN32(ERROR_REVISION_MISMATCH)", 412, "Policy version mismatch"),
        Row(.ERROR_INVALID_FUNCTION, "HRESULT_FROM_WIN32(ERROR_INVALID_FUNCTION)", 405, "Method not allowed"),
        Row(.ERROR_INVALID_STATE, "HRESULT_FROM_WIN32(ERROR_INVALID_STATE)", 409, "Invalid state"),
        Row(.ERROR_WRITE_FAULT, "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)", 503, "Durable store unavailable"),
        unexpectedFailure,
    ]

    /// E_FAIL's row: also how a code of no row answers.
    private static let unexpectedFailure = Row(.E_FAIL, "E_FAIL", 500, "Unexpected failure")

    private static let rows = Dictionary(uniqueKeysWithValues: table.map { ($0.hresult, $0) })

    /// The symbolic name from the table; a code of no row is named by its value (`0x8000FFFF`).
    public var name: String { Self.rows[self]?.name ?? code }

    /// The HTTP status from the table; a code of no row answers as E_FAIL does (500).
    public var status: Int { (Self.rows[self] ?? Self.unexpectedFailure).status }

    /// The problem title from the table; a code of no row answers as E_FAIL does.
    public var title: String { (Self.rows[self] ?? Self.unexpectedFailure).title }

    /// The value as `0x` and eight upper-case hex digits.
    public var code: String {
        let digits = Array("0123456789ABCDEF".utf8)
        var text: [UInt8] = Array("0x".utf8)
        for shift in stride(from: 28, through: 0, by: -4) {
            text.append(digits[Int((rawValue >> UInt32(shift)) & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Success codes have the severity bit clear.
    public var isSuccess: Bool { rawValue & 0x8000_0000 == 0 }

    /// The name, for logs.
    public var description: String { name }
}
