import FirewallService
import FirewallSessions
import MicroHTTPServer
import StrictJSON

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

    /// `GET /readyz`: every sink of the change pipeline (the durable store, the data plane)
    /// applies changes (else 503 naming the failing one).
    func ready(_ request: APIRequest) async throws -> APIResponse {
        if let failure = service.failure { throw FirewallError.unavailable(failure) }
        return JSONResponse.make { writer in
            writer.beginObject()
            writer.field("status", "ready")
            writer.endObject()
        }
    }
}
