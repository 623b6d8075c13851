import Logging
import Synchronization

/// One line per change of policy and per RetroactiveAllowBind: who did what to which object.
///
/// Kept apart from the access log (metadata `log=audit`) so it can be routed and retained on its
/// own; it never carries a token, only the token's name. The lines are written in batches with
/// the access lines (a crash may lose the last fraction of a second of them); the durable record
/// of a change is the audit trail in the store (`GET /audit`).
public struct AuditLog: Sendable {
    private let logger: Logger
    private let sampler: LineSampler

    /// Writes through `logger` with `log=audit`.
    public init(logger: Logger) {
        var logger = logger
        logger[metadataKey: "log"] = "audit"
        self.logger = logger
        sampler = LineSampler(interval: .seconds(1))
    }

    /// Records an action by the caller of `request`; `details` is only built when the line is
    /// written. A `sampled` line (a re-approval that changed nothing) is written at most once a
    /// second, with `audit.suppressed`: how many were left out since the last one.
    func record(
        _ action: String, by request: APIRequest, sampled: Bool = false, _ details: @autoclosure () -> Logger.Metadata
    ) {
        guard logger.logLevel <= .notice else { return }
        var suppressed: Int?
        if sampled {
            guard let left = sampler.admit() else { return }
            suppressed = left
        }
        var metadata = details()
        metadata["audit.action"] = .string(action)
        metadata["token"] = .string(request.principal.name)
        metadata["request.id"] = .string(request.requestID)
        if let suppressed { metadata["audit.suppressed"] = "\(suppressed)" }
        logger.notice("audit", metadata: metadata)
    }
}

/// At most one line per interval: `admit` answers nil for a line to leave out, else how many
/// were left out since the last line let through.
final class LineSampler: Sendable {
    private let interval: Duration
    private let state = Mutex<(last: ContinuousClock.Instant?, suppressed: Int)>((nil, 0))

    init(interval: Duration) { self.interval = interval }

    func admit(now: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { state in
            if let last = state.last, now - last < interval {
                state.suppressed += 1
                return nil
            }
            let left = state.suppressed
            state = (now, 0)
            return left
        }
    }
}
