import FirewallService
import FirewallSessions

/// The route table: every operation of the API, with the operationId openapi.yaml gives it.
/// A newcomer looking for where a request goes starts here.
public enum FirewallRoutes {
    /// Builds the table for a service.
    public static func make(
        service: FirewallService, settings: FirewallSettings, metrics: FirewallMetrics, events: EventHub, audit: AuditLog
    ) -> [Route] {
        let sessions = SessionHandlers(service: service)
        let binds = BindHandlers(service: service, maxRangesPerFilter: settings.maxRangesPerFilter)
        let retroactive = RetroactiveAllowBindHandler(
            service: service, maxRangesPerFilter: settings.maxRangesPerFilter, audit: audit, metrics: metrics)
        let decisions = DecisionHandlers(service: service, metrics: metrics)
        let rules = RuleHandlers(service: service, audit: audit)
        let protocols = ProtocolHandlers(service: service, audit: audit)
        let filters = IPFilterHandlers(service: service)
        let health = HealthHandlers(service: service)
        let scrape = MetricsHandler(service: service, metrics: metrics)
        let stream = EventsHandler(hub: events)
        let lookups = LookupHandlers(service: service)
        let trail = AuditHandlers(service: service)
        let paging: Set<String> = ["limit", "cursor"]
        return [
            Route("POST", "/sessions", "createSession", access: .filter, sessions.create),
            Route("GET", "/sessions", "listSessions", query: paging.union(["state", "user", "clientAddress"]), sessions.list),
            Route("GET", "/sessions/{id}", "getSession", sessions.get),
            Route("DELETE", "/sessions/{id}", "deleteSession", access: .filter, sessions.delete),

            Route("POST", "/sessions/{id}/binds", "createBind", access: .filter, binds.create),
            Route("GET", "/sessions/{id}/binds", "listBinds", query: paging.union(["state"]), binds.list),
            Route("GET", "/sessions/{id}/binds/{bindId}", "getBind", binds.get),
            Route("DELETE", "/sessions/{id}/binds/{bindId}", "deleteBind", access: .filter, binds.delete),
            Route("PUT", "/sessions/{id}/binds/{bindId}/ip-filter", "setBindIpFilter", access: .filter, binds.setIPFilter),
            Route("DELETE", "/sessions/{id}/binds/{bindId}/ip-filter", "liftBindIpFilter", access: .filter, binds.liftIPFilter),

            Route("POST", "/sessions/{id}/retroactive-binds", "retroactiveAllowBind", access: .filter, retroactive.allow),

            Route("GET", "/binds", "findBindsByAddress", query: paging.union(["address", "protocol"]), lookups.bindsHolding),
            Route("GET", "/summary", "getSummary", lookups.summary),

            Route("POST", "/decisions", "decide", access: .filter, decisions.decide),
            Route("POST", "/decisions/batch", "decideBatch", access: .filter, decisions.decideBatch),

            Route("GET", "/protocols", "listProtocols", query: paging, protocols.list),
            Route("POST", "/protocols", "createProtocol", protocols.create),
            Route("GET", "/protocols/{guid}", "getProtocol", protocols.get),
            Route("PUT", "/protocols/{guid}", "replaceProtocol", protocols.replace),
            Route("DELETE", "/protocols/{guid}", "deleteProtocol", protocols.delete),

            Route("GET", "/rules", "listRules", query: paging, rules.list),
            Route("POST", "/rules", "createRule", rules.create),
            Route("POST", "/rules/evaluate", "evaluateRules", access: .filter, rules.evaluate),
            Route("GET", "/rules/{id}", "getRule", rules.get),
            Route("PUT", "/rules/{id}", "replaceRule", rules.replace),
            Route("DELETE", "/rules/{id}", "deleteRule", rules.delete),

            Route("POST", "/ip-filters", "createIpFilter", access: .filter, filters.create),
            Route("GET", "/ip-filters", "listIpFilters", query: paging, filters.list),
            Route("GET", "/ip-filters/{id}", "getIpFilter", filters.get),
            Route("DELETE", "/ip-filters/{id}", "deleteIpFilter", access: .filter, filters.delete),
            Route("POST", "/ip-filters/{id}/include-range", "includeIpRange", access: .filter, filters.includeRange),
            Route("POST", "/ip-filters/{id}/exclude-range", "excludeIpRange", access: .filter, filters.excludeRange),
            Route("POST", "/ip-filters/{id}/include-filter", "includeIpFilter", access: .filter, filters.includeFilter),
            Route("POST", "/ip-filters/{id}/exclude-filter", "excludeIpFilter", access: .filter, filters.excludeFilter),
            Route("GET", "/ip-filters/{id}/contains", "ipFilterContains", query: ["address"], filters.contains),
            Route("POST", "/ip-filters/{id}/clone", "cloneIpFilter", access: .filter, filters.clone),
            Route("GET", "/ip-filters/{id}/compare", "compareIpFilters", query: ["other"], filters.compare),

            Route("GET", "/audit", "listAudit", query: paging.union(AuditHandlers.filters), trail.list),

            Route("GET", "/healthz", "health", access: .open, health.health),
            Route("GET", "/readyz", "ready", access: .open, health.ready),
            Route("GET", "/metrics", "metrics", scrape.scrape),
            Route("GET", "/ui", "statusPage", access: .open, StatusPageHandler().page),
            Route("GET", "/", "statusPageRedirect", access: .open, StatusPageHandler().redirect),
            Route("GET", "/events", "streamEvents", query: ["sessionId", "types", "lastEventId"], stream.stream),
        ]
    }
}
