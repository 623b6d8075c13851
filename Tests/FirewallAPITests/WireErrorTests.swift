import FirewallSessions
import MicroHTTPServer
import StrictJSON
import Testing

@testable import FirewallAPI

/// Every answer an error becomes: each row of the HRESULT table through the one wire error, and
/// the named conditions that share an HRESULT with another status.
@Suite("Wire errors")
struct WireErrorTests {
    static func problem(_ response: HTTPResponse) throws -> JSONObject {
        guard case .object(let object) = try JSONParser.parse(response.body) else {
            Issue.record("not a JSON object")
            return JSONObject()
        }
        return object
    }

    @Test("a domain error answers with its row: status, title, type, name and code", arguments: HResult.table)
    func row(row: HResult.Row) throws {
        let response = FirewallError(row.hresult, "something happened").apiError.response(instance: "/x")
        #expect(response.status == row.status)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let problem = try Self.problem(response)
        #expect(problem["status"] == .number(JSONNumber(Int64(row.status))))
        #expect(problem["title"] == .string(row.title))
        #expect(problem["type"] == .string("urn:fwsessiond:hresult:" + row.name))
        #expect(problem["hresult"] == .string(row.name))
        #expect(problem["code"] == .string(row.hresult.code))
        #expect(problem["detail"] == .string("something happened"))
        #expect(problem["instance"] == .string("/x"))
        // Only a failing sink says when to come back without being told to by the domain.
        #expect(response.headers["Retry-After"] == (row.hresult == .ERROR_WRITE_FAULT ? "5" : nil))
    }

    /// The conditions with a status of their own: (error, status, HRESULT, a header it must carry).
    static let conditions: [(APIError, Int, HResult, (String, String)?)] = [
        (.unauthenticated(.missing), 401, .E_ACCESSDENIED, ("WWW-Authenticate", "Bearer realm=\"fwsessiond\"")),
        (.unauthenticated(.invalid), 401, .E_ACCESSDENIED, ("WWW-Authenticate", "Bearer realm=\"fwsessiond\", error=\"invalid_token\"")),
        (.bodyTooLarge(limit: 1024), 413, .E_INVALIDARG, nil),
        (.unsupportedMediaType("text/plain"), 415, .E_INVALIDARG, nil),
        (.shuttingDown, 503, .FWX_E_TERMINATING, ("Retry-After", "1")),
        (.forbidden("no"), 403, .E_ACCESSDENIED, nil),
        (.noSuchResource, 404, .ERROR_NOT_FOUND, nil),
        (.methodNotAllowed("PATCH", allowed: ["GET", "DELETE"]), 405, .ERROR_INVALID_FUNCTION, ("Allow", "GET, DELETE")),
        (.invalid("flags[0]", "is given twice"), 400, .E_INVALIDARG, nil),
        (.unexpected, 500, .E_FAIL, nil),
    ]

    @Test("named conditions", arguments: conditions)
    func condition(error: APIError, status: Int, hresult: HResult, header: (String, String)?) throws {
        let response = error.response(instance: "/x")
        #expect(response.status == status)
        let problem = try Self.problem(response)
        #expect(problem["hresult"] == .string(hresult.name))
        #expect(problem["code"] == .string(hresult.code))
        #expect(problem["title"] == .string(hresult.title), "the title is the HRESULT's, whatever the status")
        if let (name, value) = header { #expect(response.headers[name] == value) }
    }

    @Test("every condition's status differs from its HRESULT's row: otherwise it needs no name", arguments: APIError.Condition.allCases)
    func conditionsAreExceptions(condition: APIError.Condition) {
        #expect(condition.status != condition.hresult.status)
    }

    @Test("a quota's Retry-After is the one the domain configured")
    func quotaRetryAfter() {
        let error = FirewallError(.FWX_E_IS_BUSY, "the limit of 1 sessions is reached", retryAfterSeconds: 7).apiError
        #expect(error.status == 429)
        #expect(error.headers.filter { $0.name == "Retry-After" }.map(\.value) == ["7"])
    }

    @Test("a write another array node holds is a 307 to it, with its location")
    func redirect() throws {
        var error = FirewallError(.S_OK, "session 'a' is held by node 'gw-b'; repeat the request there")
        error.heldBy = HolderLocation(node: "gw-b", baseURL: "http://10.0.0.2:8080/")
        let response = error.apiError.response(instance: "/sessions/a/binds")
        #expect(response.status == 307)
        #expect(response.headers["Location"] == "http://10.0.0.2:8080/sessions/a/binds")
        #expect(try Self.problem(response)["node"] == .string("gw-b"))
    }

    @Test("the layers' own failures", arguments: [
        (EventHub.SubscribeFailure.tooManySubscribers(limit: 3) as any APIErrorConvertible, 429, "5"),
        (EventHub.SubscribeFailure.shuttingDown, 503, "1"),
        (HTTPRejection.shuttingDown, 503, "1"),
        (HTTPRejection.bodyTooLarge(limit: 10), 413, nil),
        (HTTPRejection.clientCertificateRejected, 403, nil),
        (Authenticator.Failure.missing, 401, nil),
    ] as [(any APIErrorConvertible, Int, String?)])
    func layers(error: any APIErrorConvertible, status: Int, retryAfter: String?) {
        let response = error.apiError.response(instance: "/x")
        #expect(response.status == status)
        #expect(response.headers["Retry-After"] == retryAfter)
    }
}
