import Logging

/// One line per change of policy and per RetroactiveAllowBind: who did what to which object.
///
/// Kept apart from the access log (metadata `log=audit`) so it can be routed and retained on its
/// own; it never carries a token, only the token's name.
public struct AuditLog: Sendable {
    private let logger: Logger

    /// Writes through `logger` with `log=audit`.
    public init(logger: Logger) {
        var logger = logger
        logger[metadataKey: "log"] = "audit"
        self.logger = logger
    }

    /// Records an action by the caller of `request`; `details` is only built when the line is written.
    func record(_ action: String, by request: APIRequest, _ details: @autoclosure () -> Logger.Metadata) {
        guard logger.logLevel <= .notice else { return }
        var metadata = details()
        metadata["audit.action"] = .string(action)
        metadata["token"] = .string(request.principal.name)
        metadata["request.id"] = .string(request.requestID)
        logger.notice("audit", metadata: metadata)
    }
}
