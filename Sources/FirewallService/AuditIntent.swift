import FirewallSessions

/// How an operation is recorded in the audit trail: who asks (`AuditContext`), the action's
/// name, and how its result describes the change (nil: the result changed nothing worth a
/// record, like RetroactiveAllowBind's S_FALSE).
///
/// `SessionStore.mutate` turns it into an `AuditRecord` under the actor, only when the operation
/// changed something, and appends it to the operation's `ChangeSet`: the store writes the record
/// in the transaction of the change.
struct AuditIntent<Value>: Sendable {
    let context: AuditContext
    let action: String
    let describe: @Sendable (Value) -> AuditSubject?

    /// An intent, or nil without a context (callers inside the server, tests).
    static func make(_ context: AuditContext?, _ action: String, _ describe: @escaping @Sendable (Value) -> AuditSubject?)
        -> AuditIntent?
    {
        context.map { AuditIntent(context: $0, action: action, describe: describe) }
    }

    /// The record of `value`, made at `now`, or nil when it records nothing.
    func record(of value: Value, at now: Timestamp) -> AuditRecord? {
        guard let subject = describe(value) else { return nil }
        return AuditRecord(key: UInt64.random(in: 1...UInt64.max), time: now, action: action, by: context, subject)
    }

    /// Appends the record of `value` to `changes`, when they change something.
    func append(_ value: Value, at now: Timestamp, to changes: inout ChangeSet) {
        guard !changes.changes.isEmpty, let record = record(of: value, at: now) else { return }
        changes.changes.append(.auditRecorded(record))
    }
}
