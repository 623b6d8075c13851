import FirewallSessions
import Logging
import MicroHTTPServer
import StrictJSON
import Testing

@testable import FirewallAPI

/// The responder's own answers: routing errors, access control and unexpected failures, each
/// as problem+json with the right status and HRESULT.
@Suite("API responder")
struct APIResponderTests {
    struct Boom: Error {}

    static let adminToken = "fws_admin-token-for-tests"
    static let viewerToken = "fws_viewer-token-for-tests"

    static func make(tokens: Bool = false) -> APIResponder {
        let routes = [
            Route("GET", "/boom", "boom") { _ in throw Boom() },
            Route("GET", "/things/{id}", "getThing") { request in
                JSONResponse.make { $0.beginObject(); $0.field("id", request.parameter("id")); $0.endObject() }
            },
            Route("POST", "/things", "createThing", access: .filter) { _ in APIResponse(status: 204) },
            Route("GET", "/open", "open", access: .open) { _ in APIResponse(status: 204) },
            Route("GET", "/paged", "paged", query: ["limit"]) { _ in APIResponse(status: 204) },
        ]
        let authenticator = Authenticator(tokens: tokens ? [
            AccessToken(name: "admin", role: .admin, sha256Hex: Hex.string(AccessToken.digest(adminToken)))!,
            AccessToken(name: "viewer", role: .viewer, sha256Hex: Hex.string(AccessToken.digest(viewerToken)))!,
        ] : [])
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return APIResponder(routes: routes, authenticator: authenticator, logger: logger)
    }

    static func problem(_ response: HTTPResponse) throws -> JSONObject {
        #expect(response.headers["Content-Type"] == "application/problem+json")
        guard case .object(let object) = try JSONParser.parse(response.body) else {
            Issue.record("not a JSON object")
            return JSONObject()
        }
        return object
    }

    static func request(_ method: String, _ path: String, query: String? = nil, token: String? = nil) -> HTTPRequest {
        var headers = HTTPHeaders()
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        return HTTPRequest(method: method, path: path, query: query, headers: headers)
    }

    @Test("an unexpected error is 500 E_FAIL with a generic detail")
    func unexpectedFailure() async throws {
        let response = await Self.make().respond(to: Self.request("GET", "/boom"))
        #expect(response.status == 500)
        let problem = try Self.problem(response)
        #expect(problem["hresult"] == .string("E_FAIL"))
        #expect(problem["code"] == .string("0x80004005"))
        #expect(problem["detail"] == .string("unexpected failure; the server log has the details"))
        #expect(problem["instance"] == .string("/boom"))
    }

    @Test("routing failures", arguments: [
        ("PATCH", "/things/1", 405, "HRESULT_FROM_WIN32(ERROR_INVALID_FUNCTION)"),
        ("GET", "/nothing/here", 404, "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)"),
        ("GET", "/things/%zz", 400, "E_INVALIDARG"),
        ("GET", "/things/%C3%28", 400, "E_INVALIDARG"),
    ])
    func routing(method: String, path: String, status: Int, hresult: String) async throws {
        let response = await Self.make().respond(to: Self.request(method, path))
        #expect(response.status == status)
        #expect(try Self.problem(response)["hresult"] == .string(hresult))
    }

    @Test("405 lists the allowed methods")
    func allowHeader() async {
        let response = await Self.make().respond(to: Self.request("DELETE", "/things"))
        #expect(response.headers["Allow"] == "POST")
    }

    @Test("path parameters are percent-decoded after the split")
    func decodedParameter() async throws {
        let response = await Self.make().respond(to: Self.request("GET", "/things/a%2Fb"))
        #expect(response.status == 200)
        #expect(try JSONParser.parse(response.body) == .object(["id": "a/b"]))
    }

    @Test("unknown or repeated query parameters are E_INVALIDARG naming them", arguments: ["limit=1&limt=2", "limit=1&limit=2"])
    func query(query: String) async throws {
        let response = await Self.make().respond(to: Self.request("GET", "/paged", query: query))
        #expect(response.status == 400)
        let problem = try Self.problem(response)
        guard case .array(let errors)? = problem["errors"], case .object(let first)? = errors.first else {
            Issue.record("no field errors")
            return
        }
        #expect(first["field"] == (query.contains("limt") ? .string("limt") : .string("limit")))
    }

    @Test("tokens: missing 401 with a challenge, wrong 401, role 403, right 2xx, open routes open")
    func accessControl() async throws {
        let responder = Self.make(tokens: true)
        let missing = await responder.respond(to: Self.request("GET", "/things/1"))
        #expect(missing.status == 401)
        #expect(missing.headers["WWW-Authenticate"] == "Bearer realm=\"fwsessiond\"")
        #expect(try Self.problem(missing)["hresult"] == .string("E_ACCESSDENIED"))
        let wrong = await responder.respond(to: Self.request("GET", "/things/1", token: "fws_nope"))
        #expect(wrong.status == 401)
        let viewerWrites = await responder.respond(to: Self.request("POST", "/things", token: Self.viewerToken))
        #expect(viewerWrites.status == 403)
        #expect(try Self.problem(viewerWrites)["code"] == .string("0x80070005"))
        #expect(await responder.respond(to: Self.request("GET", "/things/1", token: Self.viewerToken)).status == 200)
        #expect(await responder.respond(to: Self.request("POST", "/things", token: Self.adminToken)).status == 204)
        #expect(await responder.respond(to: Self.request("GET", "/open")).status == 204)
    }

    static func request(_ method: String, _ path: String, headers fields: [(String, String)], token: String? = nil) -> HTTPRequest {
        var request = Self.request(method, path, token: token)
        for (name, value) in fields { request.headers.add(name: name, value: value) }
        return request
    }

    @Test("without tokens: a foreign Host, a foreign Origin or a cross-site fetch is 403 E_ACCESSDENIED", arguments: [
        [("Host", "attacker.example:8080")],
        [("Host", "attacker.example")],
        [("Host", "127.0.0.1.nip.io:8080")],
        [("Host", "10.0.0.1:8080")],
        [("Host", "localhost:8080"), ("Origin", "http://attacker.example")],
        [("Host", "localhost:8080"), ("Origin", "null")],
        [("Host", "127.0.0.1:8080"), ("Sec-Fetch-Site", "cross-site")],
    ])
    func tokenlessRefusesBrowsers(headers: [(String, String)]) async throws {
        let responder = Self.make()
        for (method, path) in [("POST", "/things"), ("GET", "/things/1")] {
            let response = await responder.respond(to: Self.request(method, path, headers: headers))
            #expect(response.status == 403)
            let problem = try Self.problem(response)
            #expect(problem["hresult"] == .string("E_ACCESSDENIED"))
            #expect(problem["code"] == .string("0x80070005"))
        }
        // The health probes and the status page's HTML stay open; with tokens, the token decides.
        #expect(await responder.respond(to: Self.request("GET", "/open", headers: headers)).status == 204)
        let withToken = Self.request("POST", "/things", headers: headers, token: Self.adminToken)
        #expect(await Self.make(tokens: true).respond(to: withToken).status == 204)
    }

    @Test("without tokens: loopback names, loopback origins and programs without Host are served", arguments: [
        [],
        [("Host", "localhost")],
        [("Host", "LOCALHOST:8080")],
        [("Host", "127.0.0.1:8080")],
        [("Host", "127.1.2.3")],
        [("Host", "[::1]:8080")],
        [("Host", "[::1]")],
        [("Host", "localhost:8080"), ("Origin", "http://localhost:8080"), ("Sec-Fetch-Site", "same-origin")],
        [("Host", "127.0.0.1:8080"), ("Origin", "https://127.0.0.1:3000"), ("Sec-Fetch-Site", "same-site")],
        [("Host", "[::1]:8080"), ("Origin", "http://[::1]:8080"), ("Sec-Fetch-Site", "none")],
    ])
    func tokenlessServesLoopback(headers: [(String, String)]) async {
        let response = await Self.make().respond(to: Self.request("POST", "/things", headers: headers))
        #expect(response.status == 204)
    }

    @Test("rejections from the HTTP layer are problem+json", arguments: [
        (HTTPRejection.bodyTooLarge(limit: 10), 413, "E_INVALIDARG"),
        (HTTPRejection.shuttingDown, 503, "FWX_E_TERMINATING"),
        (HTTPRejection.clientCertificateRejected, 403, "E_ACCESSDENIED"),
        (HTTPRejection.requestTargetTooLong(limit: 4096), 414, "E_INVALIDARG"),
        (HTTPRejection.headerFieldsTooLarge(limit: 8192), 431, "E_INVALIDARG"),
    ])
    func rejections(rejection: HTTPRejection, status: Int, hresult: String) throws {
        let response = Self.make().reject(rejection, method: "POST", path: "/things")
        #expect(response.status == status)
        #expect(try Self.problem(response)["hresult"] == .string(hresult))
    }
}
