import FirewallSessions
import MicroHTTPServer
import StrictJSON
import Testing

@testable import FirewallAPI

/// The batch fast path may only ever agree with the strict decoder: whatever it accepts, the strict
/// decoder accepts with the same queries; whatever else it must leave to the strict decoder.
@Suite("Decision batch fast path")
struct DecisionBatchFastPathTests {
    static let addresses = [
        "203.0.113.10:40000", "198.51.100.7:5004", "0.0.0.0:8080", "[2001:db8::1]:443", "[::]:5060",
        "[::ffff:192.0.2.1]:1", "10.0.0.1:65535",
    ]

    /// What the strict decoder makes of `body` (nil when it refuses it).
    static func strict(_ body: [UInt8]) -> [DecisionQuery]? {
        let route = Route("POST", "/decisions/batch", "decideBatch") { _ in APIResponse(status: 204) }
        let http = HTTPRequest(
            method: "POST", path: "/decisions/batch",
            headers: HTTPHeaders([(name: "Content-Type", value: "application/json")]), body: body)
        let request = APIRequest(
            http: http, route: route, pathParameters: [:], query: try! QueryParameters(nil), principal: .loopback,
            requestID: "1")
        return try? DecisionHandlers.batchQueries(request)
    }

    static func fast(_ body: [UInt8]) -> [DecisionQuery]? {
        DecisionBatchFastPath.decode(body, maxItems: DecisionHandlers.maxBatch)
    }

    /// A valid batch with random member order, spacing, protocols and addresses.
    static func randomBatch(items: Int, using generator: inout some RandomNumberGenerator) -> String {
        let spaces = ["", " ", "\n  ", "\t", "\r\n"]
        func space() -> String { spaces.randomElement(using: &generator)! }
        var objects: [String] = []
        for _ in 0..<items {
            let udp = Bool.random(using: &generator)
            let outbound = udp && Bool.random(using: &generator)
            var members = [
                "\"protocol\"\(space()):\(space())\"\(udp ? "udp" : "tcp")\"",
                "\"direction\":\(space())\"\(outbound ? "outbound" : "inbound")\"",
                "\"source\":\"\(addresses.randomElement(using: &generator)!)\"",
                "\"destination\"\(space()):\"\(addresses.randomElement(using: &generator)!)\"",
            ]
            members.shuffle(using: &generator)
            objects.append("{\(space())" + members.joined(separator: "\(space()),\(space())") + "\(space())}")
        }
        return "\(space()){\(space())\"decisions\"\(space()):\(space())[\(objects.joined(separator: ",\(space())"))]\(space())}\(space())"
    }

    @Test("accepts the usual shapes, with the same queries as the strict decoder")
    func agreesOnValidBatches() {
        var generator = SystemRandomNumberGenerator()
        for items in [0, 1, 2, 7, 100] {
            for _ in 0..<20 {
                let body = Array(Self.randomBatch(items: items, using: &generator).utf8)
                let fast = Self.fast(body)
                #expect(fast != nil, "\(String(decoding: body, as: UTF8.self))")
                #expect(fast == Self.strict(body))
                #expect(fast?.count == items)
            }
        }
    }

    @Test("leaves everything else to the strict decoder", arguments: [
        #"{"decisions":[{"protocol":"tcp","direction":"inbound","source":"198.51.100.7:1","destination":"203.0.113.10:2","extra":1}]}"#,
        #"{"decisions":[{"protocol":"tcp","protocol":"tcp","direction":"inbound","source":"198.51.100.7:1","destination":"203.0.113.10:2"}]}"#,
        #"{"decisions":[{"protocol":"t\u0063p","direction":"inbound","source":"198.51.100.7:1","destination":"203.0.113.10:2"}]}"#,
        #"{"decisions":[{"protocol":"tcp","direction":"inbound","source":"198.51.100.7:1"}]}"#,
        #"{"decisions":[{"protocol":"tcp","direction":"outbound","source":"198.51.100.7:1","destination":"203.0.113.10:2"}]}"#,
        #"{"decisions":[{"protocol":"TCP","direction":"inbound","source":"198.51.100.7:1","destination":"203.0.113.10:2"}]}"#,
        #"{"decisions":[{"protocol":"tcp","direction":"inbound","source":"198.51.100.7:0","destination":"203.0.113.10:2"}]}"#,
        #"{"decisions":[{"protocol":"tcp","direction":"inbound","source":" 198.51.100.7:1","destination":"203.0.113.10:2"}]}"#,
        #"{"decisions":[{"protocol":null,"direction":"inbound","source":"198.51.100.7:1","destination":"203.0.113.10:2"}]}"#,
        #"{"decisions":[],"more":true}"#,
        #"{"decisions":[]} x"#,
        #"{"decisions":[],}"#,
        #"{"decisions":[{}]}"#,
        #"{"decisions":{}}"#,
        #"["decisions"]"#,
        "",
    ])
    func fallsBack(body: String) {
        #expect(Self.fast(Array(body.utf8)) == nil)
    }

    @Test("a batch over the limit falls back (and the strict decoder refuses it)")
    func overTheLimit() {
        let item = #"{"protocol":"udp","direction":"inbound","source":"198.51.100.7:1","destination":"203.0.113.10:2"}"#
        let body = Array(("{\"decisions\":[" + Array(repeating: item, count: DecisionHandlers.maxBatch + 1).joined(separator: ",") + "]}").utf8)
        #expect(DecisionBatchFastPath.decode(body, maxItems: DecisionHandlers.maxBatch) == nil)
        #expect(Self.strict(body) == nil)
    }

    @Test("random damage to a batch: whatever the fast path still accepts, the strict decoder accepts alike")
    func neverAcceptsMoreThanTheStrictDecoder() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]:,"\ abcdefinprotuvwxyz0123456789.:-"#.utf8) + [0x00, 0x0A, 0x7F, 0xC3, 0xFF]
        var accepted = 0
        for _ in 0..<20_000 {
            var body = Array(Self.randomBatch(items: Int.random(in: 1...3, using: &generator), using: &generator).utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 0..<body.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: body[index] = alphabet.randomElement(using: &generator)!
                case 1: body.remove(at: index)
                default: body.insert(alphabet.randomElement(using: &generator)!, at: index)
                }
            }
            guard let fast = Self.fast(body) else { continue }
            accepted += 1
            #expect(fast == Self.strict(body), "\(String(decoding: body, as: UTF8.self))")
        }
        #expect(accepted > 0)
    }
}
