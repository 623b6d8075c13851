import FirewallService
import MicroHTTPServer

/// `GET /metrics`: Prometheus text format.
struct MetricsHandler: Sendable {
    let service: FirewallService
    let metrics: FirewallMetrics

    func scrape(_ request: APIRequest) async throws -> APIResponse {
        let statistics = await service.statistics()
        let headers = HTTPHeaders([(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")])
        return APIResponse(HTTPResponse(status: 200, headers: headers, body: metrics.render(statistics, dataPlaneTotals: service.trafficTotals())))
    }
}
