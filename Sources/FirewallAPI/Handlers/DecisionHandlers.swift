import FirewallService
import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// `/decisions`: the data plane asks what happens to a packet.
struct DecisionHandlers: Sendable {
    let service: FirewallService
    let metrics: FirewallMetrics

    /// Most decisions one batch may carry.
    static let maxBatch = 10_000

    /// `POST /decisions`.
    func decide(_ request: APIRequest) async throws -> APIResponse {
        var body = try request.jsonBody()
        let query = try decodingFields {
            let query = try Self.query(&body)
            try body.finish()
            return query
        }
        let decision = try await service.decide(query)
        metrics.recordDecisions([decision])
        return JSONResponse.make { $0.decision(decision) }
    }

    /// `POST /decisions/batch`: all or nothing; one bad item fails the batch naming its index.
    func decideBatch(_ request: APIRequest) async throws -> APIResponse {
        try request.requireJSONContentType()
        let queries = try DecisionBatchFastPath.decode(request.http.body, maxItems: Self.maxBatch) ?? Self.batchQueries(request)
        let decisions = try await service.decide(batch: queries)
        metrics.recordDecisions(decisions)
        var writer = JSONWriter(reservingCapacity: 64 + decisions.count * 96)
        writer.beginObject()
        writer.key("results")
        writer.decisions(decisions)
        writer.endObject()
        return APIResponse(HTTPResponse(
            status: 200, headers: HTTPHeaders([(name: "Content-Type", value: "application/json")]), body: writer.bytes))
    }

    /// The batch's queries by the general, strict decoder, which names the bad item in its error.
    static func batchQueries(_ request: APIRequest) throws -> [DecisionQuery] {
        var body = try request.jsonBody()
        return try decodingFields {
            guard let items = try body.optionalArray("decisions") else {
                throw JSONFieldError(field: "decisions", reason: "is required")
            }
            guard items.count <= Self.maxBatch else {
                throw JSONFieldError(field: "decisions", reason: "must have at most \(Self.maxBatch) items")
            }
            var queries: [DecisionQuery] = []
            queries.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                // The item's path is built only for an error (a batch has up to 10,000 items).
                do {
                    var itemBody = try JSONObjectReader(item)
                    queries.append(try Self.query(&itemBody))
                    try itemBody.finish()
                } catch let error as JSONFieldError {
                    throw FirewallError.invalid(error.field, error.reason).nested(in: "decisions[\(index)]")
                } catch let error as FirewallError {
                    throw error.nested(in: "decisions[\(index)]")
                }
            }
            try body.finish()
            return queries
        }
    }

    /// Decodes one query; the domain's initializer refuses what it does not define (outbound TCP).
    static func query(_ body: inout JSONObjectReader) throws -> DecisionQuery {
        let transport = try body.requiredEnum("protocol", TransportProtocol.self)
        let direction = try body.requiredEnum("direction", TrafficDirection.self)
        let source = try body.requiredSocketAddress("source")
        let destination = try body.requiredSocketAddress("destination")
        return try DecisionQuery(transport: transport, direction: direction, source: source, destination: destination)
    }
}
