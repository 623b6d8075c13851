import FirewallService
import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// Questions across sessions that operators ask: "who holds this port?" (`GET /binds`) and "how
/// much is there?" (`GET /summary`). Both are answered from indexes and kept counts, never a scan.
struct LookupHandlers: Sendable {
    let service: FirewallService

    /// `GET /binds?address=&protocol=`: the binds holding an address, whichever session holds them.
    func bindsHolding(_ request: APIRequest) async throws -> APIResponse {
        guard let text = request.query["address"] else { throw APIError.invalid("address", "is required") }
        guard case .success(let address) = SocketAddress.parse(text) else {
            throw APIError.invalid("address", "must be an address with a port, e.g. 203.0.113.10:40000 or [::]:40000")
        }
        var transport: TransportProtocol?
        if let name = request.query["protocol"] {
            transport = try decodingFields { () throws(JSONFieldError) in
                try JSONObjectReader.enumValue(name, TransportProtocol.self, field: "protocol")
            }
        }
        let page = await service.binds(holding: address, transport: transport, page: try request.query.page())
        return JSONResponse.make { $0.page(page) { $0.bind($1) } }
    }

    /// `GET /summary`: sessions and binds by state from the kept counts (the numbers `/metrics`
    /// exports), the policy version, and what is mirrored from other nodes of an array.
    func summary(_ request: APIRequest) async throws -> APIResponse {
        let statistics = await service.statistics()
        return JSONResponse.make { writer in
            writer.beginObject()
            writer.key("sessions")
            writer.beginObject()
            writer.field("total", SessionState.allCases.reduce(0) { $0 + (statistics.sessionsByState[$1] ?? 0) })
            for state in SessionState.allCases { writer.field(state.rawValue, statistics.sessionsByState[state] ?? 0) }
            writer.endObject()
            writer.key("binds")
            writer.beginObject()
            writer.field("total", BindState.allCases.reduce(0) { $0 + (statistics.bindsByState[$1] ?? 0) })
            for state in BindState.allCases { writer.field(state.rawValue, statistics.bindsByState[state] ?? 0) }
            writer.endObject()
            writer.key("mirrored")
            writer.beginObject()
            writer.field("sessions", statistics.mirroredSessions)
            writer.field("binds", statistics.mirroredBinds)
            writer.endObject()
            writer.field("policyVersion", statistics.policyVersion)
            writer.endObject()
        }
    }
}
