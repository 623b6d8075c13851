import FirewallPipeline
import FirewallSessions
import StrictJSON

/// The thread of an audit trail reader: runs queries in order, each resuming its caller through
/// a continuation, and every `pruneInterval` seconds the retention's pruning, between queries.
/// A database blocks, so none of this may run on the event loop or the cooperative pool.
final class AuditTrailWorker: @unchecked Sendable {
    // @unchecked: `jobs` and `closed` are touched only with `lock` held.
    private let lock = ConditionLock()
    private var jobs: [() -> Void] = []
    private var closed = false

    /// Starts the thread; `prune` runs every `pruneInterval` seconds (first after one interval).
    init(pruneInterval: Double, prune: @escaping @Sendable () -> Void) {
        startThread { [self] in loop(pruneInterval, prune) }
    }

    /// Runs `job` on the worker's thread and returns its result.
    func run<T: Sendable>(_ job: @escaping @Sendable () throws(SinkError) -> T) async throws(SinkError) -> T {
        let result: Result<T, SinkError> = await withCheckedContinuation { continuation in
            let accepted = lock.withLock { () -> Bool in
                guard !closed else { return false }
                jobs.append {
                    do throws(SinkError) {
                        continuation.resume(returning: .success(try job()))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
                lock.broadcast()
                return true
            }
            if !accepted { continuation.resume(returning: .failure(SinkError("the audit trail is closed"))) }
        }
        return try result.get()
    }

    /// Stops the thread after the queued jobs.
    func close() {
        lock.withLock {
            closed = true
            lock.broadcast()
        }
    }

    private func loop(_ interval: Double, _ prune: @Sendable () -> Void) {
        let clock = ContinuousClock()
        var nextPrune = clock.now + .seconds(interval)
        while true {
            let job: (() -> Void)?? = lock.withLock {
                while jobs.isEmpty && !closed {
                    let left = clock.now.duration(to: nextPrune)
                    if left <= .zero { return .some(nil) }
                    let (seconds, attoseconds) = left.components
                    lock.wait(seconds: Double(seconds) + Double(attoseconds) / 1e18)
                }
                return jobs.isEmpty ? nil : .some(jobs.removeFirst())
            }
            switch job {
            case nil: return
            case .some(nil):
                prune()
                nextPrune = clock.now + .seconds(interval)
            case .some(.some(let run)):
                run()
            }
        }
    }
}

/// The `details` column: a small JSON object.
enum AuditDetailsCoding {
    static func text(_ details: [AuditDetail]) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for detail in details {
            switch detail.value {
            case .string(let text): writer.field(detail.key, text)
            case .integer(let number): writer.field(detail.key, number)
            case .strings(let list):
                writer.key(detail.key)
                writer.beginArray()
                for item in list { writer.string(item) }
                writer.endArray()
            }
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The details read back; what is not one of the kinds details use is kept as its text.
    static func details(_ text: String) -> [AuditDetail] {
        guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else { return [] }
        return object.members.map { member in
            switch member.value {
            case .string(let value): AuditDetail(member.key, .string(value))
            case .number(let number): number.int64.map { AuditDetail(member.key, .integer($0)) } ?? AuditDetail(member.key, .string(number.literal))
            case .array(let items):
                AuditDetail(member.key, .strings(items.map { if case .string(let item) = $0 { item } else { "" } }))
            default: AuditDetail(member.key, .string(""))
            }
        }
    }
}
