import FirewallService
import FirewallSessions
import Logging
import MicroHTTPServer
import StrictJSON

/// `POST /sessions/{id}/retroactive-binds`: IFWXSession::RetroactiveAllowBind.
struct RetroactiveAllowBindHandler: Sendable {
    let service: FirewallService
    let maxRangesPerFilter: Int
    let audit: AuditLog
    let metrics: FirewallMetrics

    /// Only decodes: check 1 (the request is valid) is `RetroactiveAllowBindRequest`'s initializer
    /// and, for a stored filter, `FirewallState.retroactiveAllowBind`, which makes checks 2 to 7.
    func allow(_ request: APIRequest) async throws -> APIResponse {
        var body = try request.jsonBody()
        let maxRanges = maxRangesPerFilter
        let allowRequest = try decodingFields {
            let transport = try body.requiredEnum("protocol", TransportProtocol.self)
            let address = try body.requiredSocketAddress("address")
            let guid = try body.requiredGUID("protocolGuid")
            var flags: [BindFlags] = []
            for (index, name) in (try body.optionalStringArray("flags") ?? []).enumerated() {
                guard let flag = BindFlags.named(name) else {
                    throw JSONFieldError(
                        field: "flags[\(index)]", reason: "is not a known flag (the flags are 'bidirectional' and 'increase-receive-buffer')")
                }
                flags.append(flag)
            }
            let filter = try IPFilterDecoding.bindFilter(&body, maxRanges: maxRanges)
            let lifetime = try body.optionalInt("lifetimeSeconds", in: 1...31_536_000).map(Double.init)
            try body.finish()
            return try RetroactiveAllowBindRequest(
                transport: transport, address: address, protocolGUID: guid, flags: flags, ipFilter: filter,
                lifetimeSeconds: lifetime)
        }
        let result: RetroactiveAllowBindResult
        do {
            result = try await service.retroactiveAllowBind(
                sessionID: request.parameter("id"), allowRequest, by: request.auditContext)
        } catch {
            audit.record("retroactive-allow-bind", by: request, [
                "session.id": "\(request.parameter("id"))", "bind.address": "\(allowRequest.address)",
                "protocol.guid": "\(allowRequest.protocolGUID)", "hresult": "\(error.hresult.name)",
            ])
            throw error
        }
        // A re-approval (S_FALSE) changes nothing: counted, not kept in the trail, and its line
        // sampled (a helper may re-approve in a loop).
        if result.hresult == .S_FALSE { metrics.recordReapproval() }
        audit.record("retroactive-allow-bind", by: request, sampled: result.hresult == .S_FALSE, [
            "session.id": "\(request.parameter("id"))", "bind.address": "\(allowRequest.address)",
            "bind.ids": "\(result.binds.map(\.id.description).joined(separator: ","))",
            "protocol.guid": "\(allowRequest.protocolGUID)", "flags": "\(allowRequest.flags.names.joined(separator: ","))",
            "hresult": "\(result.hresult.name)",
        ])
        return JSONResponse.make(hresult: result.hresult) { writer in
            writer.beginObject()
            writer.field("hresult", result.hresult.name)
            writer.field("code", result.hresult.code)
            writer.key("binds")
            writer.beginArray()
            for bind in result.binds { writer.bind(bind) }
            writer.endArray()
            writer.endObject()
        }
    }
}
