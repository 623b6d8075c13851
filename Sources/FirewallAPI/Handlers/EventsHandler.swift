import FirewallSessions
import MicroHTTPServer

/// `GET /events`: Server-Sent Events of every state change.
struct EventsHandler: Sendable {
    let hub: EventHub

    /// `?sessionId=`, `?types=a,b`; resumes after `Last-Event-ID` (header, or `?lastEventId=` for
    /// clients that cannot set headers).
    func stream(_ request: APIRequest) async throws -> APIResponse {
        var filter = EventFilter()
        if let sessionID = request.query["sessionId"] {
            guard Session.isValidID(sessionID) else { throw APIError.invalid("sessionId", "must match [A-Za-z0-9._-]{1,64}") }
            filter.sessionID = sessionID
        }
        if let types = request.query["types"] {
            var kinds = Set<DomainEvent.Kind>()
            for name in types.split(separator: ",", omittingEmptySubsequences: false) {
                guard let kind = DomainEvent.Kind(rawValue: String(name)) else {
                    let known = DomainEvent.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                    throw APIError.invalid("types", "names an unknown event type '\(name.prefix(64))' (the types are \(known))")
                }
                kinds.insert(kind)
            }
            filter.types = kinds
        }
        var lastEventID: UInt64?
        if let text = request.http.headers["Last-Event-ID"] ?? request.query["lastEventId"] {
            guard let id = UInt64(text.trimmingSpaces()) else {
                throw APIError.invalid("Last-Event-ID", "must be an event id this server sent")
            }
            lastEventID = id
        }
        switch hub.subscribe(filter: filter, lastEventID: lastEventID) {
        case .success(let stream):
            let headers = HTTPHeaders([
                (name: "Content-Type", value: "text/event-stream"),
                (name: "Cache-Control", value: "no-cache"),
                (name: "X-Accel-Buffering", value: "no"),
            ])
            return APIResponse(HTTPResponse(status: 200, headers: headers, stream: stream))
        case .failure(let failure):
            throw failure
        }
    }
}
