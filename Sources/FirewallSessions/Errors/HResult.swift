/// A COM result code, as the Firewall service API returns them.
///
/// The static members carry the names of the HRESULT table in API.md, and `name` renders them
/// exactly as that table writes them, so the wire never spells a code two ways.
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

    /// Every code this server produces, in table order.
    public static let all: [HResult] = [
        .S_OK, .S_FALSE, .E_INVALIDARG, .ERROR_NOT_FOUND, .FWX_E_TERMINATING, .FWX_E_PROTOCOL_RULES_DENIED,
        .FWX_E_ALREADY_EXISTS, .WSAEADDRINUSE, .ERROR_BUSY, .FWX_E_IS_BUSY, .E_ACCESSDENIED,
        .ERROR_REVISION_MISMATCH, .ERROR_INVALID_FUNCTION, .ERROR_INVALID_STATE, .ERROR_WRITE_FAULT, .E_FAIL,
    ]

    /// The symbolic name as API.md's table writes it, e.g. `HRESULT_FROM_WIN32(ERROR_NOT_FOUND)`.
    public var name: String {
        switch self {
        case .S_OK: "S_OK"
        case .S_FALSE: "S_FALSE"
        case .E_INVALIDARG: "E_INVALIDARG"
        case .ERROR_NOT_FOUND: "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)"
        case .FWX_E_TERMINATING: "FWX_E_TERMINATING"
        case .FWX_E_PROTOCOL_RULES_DENIED: "FWX_E_PROTOCOL_RULES_DENIED"
        case .FWX_E_ALREADY_EXISTS: "FWX_E_ALREADY_EXISTS"
        case .WSAEADDRINUSE: "HRESULT_FROM_WIN32(WSAEADDRINUSE)"
        case .ERROR_BUSY: "HRESULT_FROM_WIN32(ERROR_BUSY)"
        case .FWX_E_IS_BUSY: "FWX_E_IS_BUSY"
        case .E_ACCESSDENIED: "E_ACCESSDENIED"
        case .ERROR_REVISION_MISMATCH: "HRESULT_FROM_WIN32(ERROR_REVISION_MISMATCH)"
        case .ERROR_INVALID_FUNCTION: "HRESULT_FROM_WIN32(ERROR_INVALID_FUNCTION)"
        case .ERROR_INVALID_STATE: "HRESULT_FROM_WIN32(ERROR_INVALID_STATE)"
        case .ERROR_WRITE_FAULT: "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)"
        case .E_FAIL: "E_FAIL"
        default: code
        }
    }

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
