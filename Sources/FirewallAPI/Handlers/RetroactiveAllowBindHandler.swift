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

    /// Check 1 (the body is valid) happens here; checks 2 to 7 in `FirewallState`.
    func allow(_ request: APIRequest) async throws -> APIResponse {
        var body = try request.jsonBody()
        let maxRanges = maxRangesPerFilter
        let allowRequest = try decodingFields { () throws(JSONFieldError) in
            let transport = try body.requiredEnum("protocol", TransportProtocol.self)
            let address = try body.requiredSocketAddress("address")
            let guid = try body.requiredGUID("protocolGuid")
            var flags: BindFlags = []
            for (index, name) in (try body.optionalStringArray("flags") ?? []).enumerated() {
                guard let flag = BindFlags.named(name) else {
                    throw JSONFieldError(
                        field: "flags[\(index)]", reason: "unknown flag; known flags are 'bidirectional', 'increase-receive-buffer'")
                }
                guard !(flag == .bidirectional && transport != .udp) else {
                    throw JSONFieldError(field: "flags[\(index)]", reason: "only valid for protocol udp")
                }
                guard !flags.contains(flag) else { throw JSONFieldError(field: "flags[\(index)]", reason: "is given twice") }
                flags.insert(flag)
            }
            let filter = try IPFilterDecoding.bindFilter(&body, maxRanges: maxRanges)
            try body.finish()
            do throws(FirewallError) {
                return try RetroactiveAllowBindRequest(
                    transport: transport, address: address, protocolGUID: guid, flags: flags, ipFilter: filter)
            } catch {
                throw JSONFieldError(field: error.fieldErrors.first?.field ?? "", reason: error.detail)
            }
        }
        let result: RetroactiveAllowBindResult
        do {
            result = try await service.retroactiveAllowBind(sessionID: request.parameter("id"), allowRequest)
        } catch {
            audit.record("retroactive-allow-bind", by: request, [
                "session.id": "\(request.parameter("id"))", "bind.address": "\(allowRequest.address)",
                "protocol.guid": "\(allowRequest.protocolGUID)", "hresult": "\(error.hresult.name)",
            ])
            throw error
        }
        audit.record("retroactive-allow-bind", by: request, [
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
