import FirewallSessions
import Testing

@testable import FirewallAPI

/// API.md's HRESULT mapping, as one table: the status each HRESULT takes from the one place that
/// maps them. (401 E_ACCESSDENIED and 503 FWX_E_TERMINATING are chosen where they arise.)
@Suite("HRESULT to HTTP status")
struct HResultHTTPTableTests {
    static let table: [(HResult, Int, String)] = [
        (.S_OK, 200, "Success"),
        (.S_FALSE, 200, "Success"),
        (.E_INVALIDARG, 400, "Invalid parameter"),
        (.E_ACCESSDENIED, 403, "Access denied"),
        (.FWX_E_PROTOCOL_RULES_DENIED, 403, "Denied by the access rules"),
        (.ERROR_NOT_FOUND, 404, "Not found"),
        (.FWX_E_TERMINATING, 409, "Terminating"),
        (.FWX_E_ALREADY_EXISTS, 409, "Already exists"),
        (.WSAEADDRINUSE, 409, "Address already bound"),
        (.ERROR_BUSY, 409, "Still in use"),
        (.FWX_E_IS_BUSY, 429, "Quota reached"),
        (.E_FAIL, 500, "Unexpected failure"),
        // The server's own choices where API.md leaves one open.
        (.ERROR_REVISION_MISMATCH, 412, "Policy version mismatch"),
        (.ERROR_INVALID_FUNCTION, 405, "Method not allowed"),
        (.ERROR_INVALID_STATE, 409, "Invalid state"),
        (.ERROR_WRITE_FAULT, 503, "Durable store unavailable"),
    ]

    @Test("each HRESULT maps to its status and title", arguments: table)
    func status(hresult: HResult, status: Int, title: String) {
        #expect(HResultHTTPTable.status(for: hresult) == status)
        #expect(HResultHTTPTable.title(for: hresult) == title)
    }

    @Test("the table covers every HRESULT the domain produces")
    func covers() {
        #expect(Set(Self.table.map(\.0)) == Set(HResult.all))
    }

    @Test("an HRESULT nobody expects is a 500")
    func unknown() {
        #expect(HResultHTTPTable.status(for: HResult(rawValue: 0x8000_FFFF)) == 500)
        #expect(HResultHTTPTable.title(for: HResult(rawValue: 0x8000_FFFF)) == "Unexpected failure")
    }
}
