import Testing

@testable import FirewallSessions

@Suite("HResult")
struct HResultTests {
    /// API.md's HRESULT table (and DOMAIN.md's), then the codes the server added for the choices
    /// API.md leaves open (If-Match, methods, invalid state, store failure).
    static let table: [(HResult, String, String)] = [
        (.S_OK, "S_OK", "0x00000000"),
        (.S_FALSE, "S_FALSE", "0x00000001"),
        (.E_INVALIDARG, "E_INVALIDARG", "0x80070057"),
        (.E_ACCESSDENIED, "E_ACCESSDENIED", "0x80070005"),
        (.FWX_E_PROTOCOL_RULES_DENIED, "FWX_E_PROTOCOL_RULES_DENIED", "0xC004000D"),
        (.ERROR_NOT_FOUND, "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)", "0x80070490"),
        (.FWX_E_TERMINATING, "FWX_E_TERMINATING", "0xC0040001"),
        (.FWX_E_ALREADY_EXISTS, "FWX_E_ALREADY_EXISTS", "0x800700B7"),
        (.WSAEADDRINUSE, "HRESULT_FROM_WIN32(WSAEADDRINUSE)", "0x80072740"),
        (.ERROR_BUSY, "HRESULT_FROM_WIN32(ERROR_BUSY)", "0x800700AA"),
        (.FWX_E_IS_BUSY, "FWX_E_IS_BUSY", "0xC0040011"),
        (.E_FAIL, "E_FAIL", "0x80004005"),
        (.ERROR_REVISION_MISMATCH, "HRESULT_FROM_WIN32(ERROR_REVISION_MISMATCH)", "0x8007051A"),
        (.ERROR_INVALID_FUNCTION, "HRESULT_FROM_WIN32(ERROR_INVALID_FUNCTION)", "0x80070001"),
        (.ERROR_INVALID_STATE, "HRESULT_FROM_WIN32(ERROR_INVALID_STATE)", "0x8007139F"),
        (.ERROR_WRITE_FAULT, "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)", "0x8007001D"),
    ]

    @Test("name and code as the table writes them", arguments: table)
    func nameAndCode(hresult: HResult, name: String, code: String) {
        #expect(hresult.name == name)
        #expect(hresult.code == code)
        #expect(hresult.description == name)
        #expect(UInt32(code.dropFirst(2), radix: 16) == hresult.rawValue)
    }

    @Test("every static member is in the table, once")
    func allIsTheTable() {
        #expect(HResult.all.count == Self.table.count)
        #expect(Set(HResult.all) == Set(Self.table.map(\.0)))
        #expect(Set(HResult.all.map(\.rawValue)).count == HResult.all.count)
    }

    @Test("success is the severity bit clear", arguments: table)
    func success(hresult: HResult, name: String, code: String) {
        #expect(hresult.isSuccess == (hresult == .S_OK || hresult == .S_FALSE))
    }

    @Test(
        "a code the server does not know renders as its hex value",
        arguments: [(0x8000_FFFF as UInt32, "0x8000FFFF"), (0x0000_0002, "0x00000002"), (0xFFFF_FFFF, "0xFFFFFFFF")])
    func unknownCode(raw: UInt32, code: String) {
        let hresult = HResult(rawValue: raw)
        #expect(hresult.code == code)
        #expect(hresult.name == code)
    }

    @Test("FirewallError helpers carry the code and the field")
    func errorHelpers() {
        let invalid = FirewallError.invalid("flags[0]", "only valid for protocol udp")
        #expect(invalid.hresult == .E_INVALIDARG)
        #expect(invalid.fieldErrors == [FieldError(field: "flags[0]", reason: "only valid for protocol udp")])
        #expect(invalid.detail == "flags[0] only valid for protocol udp")
        let body = FirewallError.invalid("", "is not JSON")
        #expect(body.detail == "body is not JSON")
        let missing = FirewallError.notFound("session", "s-9")
        #expect(missing.hresult == .ERROR_NOT_FOUND)
        #expect(missing.detail == "no session with id 's-9'")
        #expect(missing.fieldErrors.isEmpty)
    }
}
