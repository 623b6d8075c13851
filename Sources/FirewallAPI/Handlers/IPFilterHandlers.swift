import FirewallService
import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// `/ip-filters`: stored IP filters and every IFWXIpFilter operation.
struct IPFilterHandlers: Sendable {
    let service: FirewallService

    /// `POST /ip-filters`: includes applied, then excludes (the domain checks the count of ranges).
    func create(_ request: APIRequest) async throws -> APIResponse {
        var body = try request.jsonBody()
        let (include, exclude) = try decodingFields {
            guard let include = try body.optionalRanges("include") else {
                throw JSONFieldError(field: "include", reason: "is required")
            }
            let exclude = try body.optionalRanges("exclude") ?? []
            try body.finish()
            return (include, exclude)
        }
        let filter = try await service.createIPFilter(include: include, exclude: exclude, by: request.auditContext)
        return JSONResponse.created(at: "/ip-filters/\(filter.id)") { $0.ipFilter(filter) }
    }

    /// `GET /ip-filters`.
    func list(_ request: APIRequest) async throws -> APIResponse {
        let page = try await service.listIPFilters(page: try request.query.page())
        return JSONResponse.make { $0.page(page) { $0.ipFilter($1) } }
    }

    /// `GET /ip-filters/{id}`.
    func get(_ request: APIRequest) async throws -> APIResponse {
        let filter = try await service.ipFilter(request.parameter("id"))
        return JSONResponse.make { $0.ipFilter(filter) }
    }

    /// `DELETE /ip-filters/{id}`: 204, or ERROR_BUSY while an allowed bind references it.
    func delete(_ request: APIRequest) async throws -> APIResponse {
        try request.requireNoBody()
        try await service.deleteIPFilter(request.parameter("id"), by: request.auditContext)
        return APIResponse(status: 204)
    }

    /// `POST /ip-filters/{id}/include-range` (IncludeRange).
    func includeRange(_ request: APIRequest) async throws -> APIResponse {
        try await modify(request) { range in .includeRange(range) }
    }

    /// `POST /ip-filters/{id}/exclude-range` (ExcludeRange).
    func excludeRange(_ request: APIRequest) async throws -> APIResponse {
        try await modify(request) { range in .excludeRange(range) }
    }

    /// `POST /ip-filters/{id}/include-filter` (IncludeFilter).
    func includeFilter(_ request: APIRequest) async throws -> APIResponse {
        try await modify(request) { id in .includeFilter(id: id) }
    }

    /// `POST /ip-filters/{id}/exclude-filter` (ExcludeFilter).
    func excludeFilter(_ request: APIRequest) async throws -> APIResponse {
        try await modify(request) { id in .excludeFilter(id: id) }
    }

    /// `GET /ip-filters/{id}/contains?address=` (IsIncluded).
    func contains(_ request: APIRequest) async throws -> APIResponse {
        guard let text = request.query["address"] else { throw APIError.invalid("address", "is required") }
        guard let address = IPAddress(text) else {
            throw APIError.invalid("address", "must be an IPv4 or IPv6 address without a port")
        }
        let included = try await service.ipFilterContains(request.parameter("id"), address)
        let hresult: HResult = included ? .S_OK : .S_FALSE
        return JSONResponse.make { writer in
            writer.beginObject()
            writer.field("included", included)
            writer.field("hresult", hresult.name)
            writer.field("code", hresult.code)
            writer.endObject()
        }
    }

    /// `POST /ip-filters/{id}/clone` (Clone).
    func clone(_ request: APIRequest) async throws -> APIResponse {
        try request.requireNoBody()
        let filter = try await service.cloneIPFilter(request.parameter("id"), by: request.auditContext)
        return JSONResponse.created(at: "/ip-filters/\(filter.id)") { $0.ipFilter(filter) }
    }

    /// `GET /ip-filters/{id}/compare?other=` (Compare, with the relation between the sets).
    func compare(_ request: APIRequest) async throws -> APIResponse {
        guard let other = request.query["other"], !other.isEmpty else { throw APIError.invalid("other", "is required") }
        let relation = try await service.compareIPFilters(request.parameter("id"), other)
        let hresult: HResult = relation == .equal ? .S_OK : .S_FALSE
        return JSONResponse.make { writer in
            writer.beginObject()
            writer.field("equal", relation == .equal)
            writer.field("hresult", hresult.name)
            writer.field("code", hresult.code)
            writer.field("relation", relation.rawValue)
            writer.endObject()
        }
    }

    private func modify(_ request: APIRequest, _ operation: @escaping @Sendable (IPRange) -> IPFilterOperation) async throws
        -> APIResponse
    {
        var body = try request.jsonBody()
        let range = try decodingFields {
            let range = try body.requiredRange("range")
            try body.finish()
            return range
        }
        let filter = try await service.modifyIPFilter(request.parameter("id"), operation(range), by: request.auditContext)
        return JSONResponse.make { $0.ipFilter(filter) }
    }

    private func modify(_ request: APIRequest, _ operation: @escaping @Sendable (String) -> IPFilterOperation) async throws
        -> APIResponse
    {
        var body = try request.jsonBody()
        let otherID = try decodingFields {
            let id = try body.requiredText("filterId", maxLength: 64)
            try body.finish()
            return id
        }
        let filter = try await service.modifyIPFilter(request.parameter("id"), operation(otherID), by: request.auditContext)
        return JSONResponse.make { $0.ipFilter(filter) }
    }
}
