import Testing

@testable import FirewallSessions

@Suite("HResult")
struct HResultTests {
    /// API.md's HRESULT table (and DOMAIN.md's), then the codes the server added for the choices
    /// API.md leaves open (If-Match, methods, invalid state, store failure): value, name, HTTP
    /// status and problem title, as the wire must show them.
    static let table: [(HResult, String, String, Int, String)] = [
        (.S_OK, "S_OK", "0x00000000", 200, "Success"),
        (.S_FALSE, "S_FALSE", "0x00000001", 200, "Success"),
        (.E_INVALIDARG, "E_INVALIDARG", "0x80070057", 400, "Invalid parameter"),
        (.ERROR_NOT_FOUND, "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)", "0x80070490", 404, "Not found"),
        (.FWX_E_TERMINATING, "FWX_E_TERMINATING", "0xC0040001", 409, "Terminating"),
        (.FWX_E_PROTOCOL_RULES_DENIED, "FWX_E_PROTOCOL_RULES_DENIED", "0xC004000D", 403, "Denied by the access rules"),
        (.FWX_E_ALREADY_EXISTS, "FWX_E_ALREADY_EXISTS", "0x800700B7", 409, "Already exists"),
        (.WSAEADDRINUSE, "HRESULT_FROM_WIN32(WSAEADDRINUSE)", "0x80072740", 409, "Address already bound"),
        (.ERROR_BUSY, "HRESULT_FROM_WIN32(ERROR_BUSY)", "0x800700AA", 409, "Still in use"),
        (.FWX_E_IS_BUSY, "FWX_E_IS_BUSY", "0xC0040011", 429, "Quota reached"),
        (.E_ACCESSDENIED, "E_ACCESSDENIED", "0x80070005", 403, "Access denied"),
        (.ERROR_REVISION_MISMATCH, "HRESULT_FROM_WIN32(ERROR_REVISION_MISMATCH)", "0x8007051A", 412, "Policy version mismatch"),
        (.ERROR_INVALID_FUNCTION, "HRESULT_FROM_WIN32(ERROR_INVALID_FUNCTION)", "0x80070001", 405, "Method not allowed"),
        (.ERROR_INVALID_STATE, "HRESULT_FROM_WIN32(ERROR_INVALID_STATE)", "0x8007139F", 409, "Invalid state"),
        (.ERROR_WRITE_FAULT, "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)", "0x8007001D", 503, "Durable store unavailable"),
        (.E_FAIL, "E_FAIL", "0x80004005", 500, "Unexpected failure"),
    ]

    @Test("every row: value, name, status and title as the table writes them", arguments: table)
    func row(hresult: HResult, name: String, code: String, status: Int, title: String) {
        #expect(hresult.name == name)
        #expect(hresult.code == code)
        #expect(hresult.description == name)
        #expect(UInt32(code.dropFirst(2), radix: 16) == hresult.rawValue)
        #expect(hresult.status == status)
        #expect(hresult.title == title)
    }

    @Test("the server's table is exactly these rows, in this order, each code once")
    func tableIsTheRows() {
        #expect(HResult.table.map(\.hresult) == Self.table.map(\.0))
        #expect(HResult.table.map(\.name) == Self.table.map(\.1))
        #expect(HResult.table.map(\.status) == Self.table.map(\.3))
        #expect(HResult.table.map(\.title) == Self.table.map(\.4))
        #expect(Set(HResult.table.map(\.hresult.rawValue)).count == HResult.table.count)
    }

    @Test("success is the severity bit clear", arguments: table)
    func success(hresult: HResult, name: String, code: String, status: Int, title: String) {
        #expect(hresult.isSuccess == (hresult == .S_OK || hresult == .S_FALSE))
    }

    @Test(
        "a code the server does not know renders as its hex value and answers as E_FAIL",
        arguments: [(0x8000_FFFF as UInt32, "0x8000FFFF"), (0x0000_0002, "0x00000002"), (0xFFFF_FFFF, "0xFFFFFFFF")])
    func unknownCode(raw: UInt32, code: String) {
        let hresult = HResult(rawValue: raw)
        #expect(hresult.code == code)
        #expect(hresult.name == code)
        #expect(hresult.status == 500)
        #expect(hresult.title == "Unexpected failure")
    }

    @Test("FirewallError helpers carry the code and the field")
    func errorHelpers() {
        let invalid = FirewallError.invalid("flags[0]", "is only valid for protocol udp")
        #expect(invalid.hresult == .E_INVALIDARG)
        #expect(invalid.fieldErrors == [FieldError(field: "flags[0]", reason: "is only valid for protocol udp")])
        #expect(invalid.detail == "flags[0] is only valid for protocol udp")
        #expect(invalid.nested(in: "items[2]") == .invalid("items[2].flags[0]", "is only valid for protocol udp"))
        #expect(FirewallError.invalid("", "is not JSON").nested(in: "items[2]") == .invalid("items[2]", "is not JSON"))
        let body = FirewallError.invalid("", "is not JSON")
        #expect(body.detail == "body is not JSON")
        let missing = FirewallError.notFound("session", "s-9")
        #expect(missing.hresult == .ERROR_NOT_FOUND)
        #expect(missing.detail == "no session with id 's-9'")
        #expect(missing.fieldErrors.isEmpty)
        #expect(missing.nested(in: "items[2]") == missing)
    }
}
