import FirewallService
import FirewallSessions
import MicroHTTPServer

/// `/healthz` and `/readyz`: for load balancers and orchestrators.
struct HealthHandlers: Sendable {
    let service: FirewallService

    /// `GET /healthz`: the process is up and serving.
    func health(_ request: APIRequest) async throws -> APIResponse {
        return JSONResponse.make { writer in
            writer.beginObject()
            writer.field("status", "ok")
            writer.endObject()
        }
    }

    /// `GET /readyz`: the durable store is open and writable (else 503 with the reason).
    func ready(_ request: APIRequest) async throws -> APIResponse {
        if let failure = service.storeFailure {
            throw APIError(FirewallError(.ERROR_WRITE_FAULT, "the durable store cannot be written: \(failure.message)"))
        }
        return JSONResponse.make { writer in
            writer.beginObject()
            writer.field("status", "ready")
            writer.endObject()
        }
    }
}
