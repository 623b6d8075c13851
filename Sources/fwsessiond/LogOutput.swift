import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Standard error, buffered: access-log and audit lines are collected and written every 200 ms
/// or every 64 KiB, so a busy server does not make one write system call per request (a crash
/// may lose the last fraction of a second of them; never a durable audit record, which the store
/// holds); other lines at notice and above (warnings, errors) are written at once, after what is
/// buffered, so order is kept.
final class LogOutput: Sendable {
    static let shared = LogOutput()

    private let buffer = Mutex<[UInt8]>([])
    private let flushThreshold = 65_536

    private init() {
        buffer.withLock { $0.reserveCapacity(flushThreshold * 2) }
    }

    /// Appends one line (with its newline).
    func write(_ line: [UInt8], urgent: Bool) {
        buffer.withLock { pending in
            pending += line
            if urgent || pending.count >= flushThreshold { Self.drain(&pending) }
        }
    }

    /// Writes what is buffered.
    func flush() {
        buffer.withLock { Self.drain(&$0) }
    }

    /// Flushes every 200 ms until the task is cancelled, then once more.
    func runFlusher() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            flush()
        }
        flush()
    }

    private static func drain(_ pending: inout [UInt8]) {
        guard !pending.isEmpty else { return }
        pending.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    break
                }
                offset += written
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}
