#if canImport(Glibc)
import Glibc
#endif
import CEventLoop
import Synchronization

/// One thread that waits on file descriptors (libmicrohttpd's daemons) and runs Swift jobs: the
/// HTTP thread, and the executor of the actor that owns fwsessiond's state.
///
/// Running both on one thread means a request's task (it prefers this executor) and its hops into
/// the actor never wake another thread: the handlers of all requests MHD read in one pass run
/// back to back as jobs, then MHD sends their answers. Answering inside libmicrohttpd's callback
/// instead was tried and measured slower (branch `perf`; issue 10's note has the figures). Only
/// the pipeline's sink threads wake the loop for a request that waits for its commit.
///
/// `@unchecked Sendable`: `sources` and `running` are only touched on the loop thread; jobs and
/// blocks cross threads through `queue` (a mutex) and the eventfd.
public final class EventLoop: SerialExecutor, TaskExecutor, @unchecked Sendable {
    /// A file descriptor the loop waits on, what to do when it is ready, and when to call again
    /// anyway (libmicrohttpd's connection timeouts).
    public struct Source: Sendable {
        /// Called on the loop thread when the descriptor is readable, or its timeout passed.
        public var ready: @Sendable () -> Void
        /// Milliseconds until `ready` must run even without events; nil: no deadline.
        public var timeout: @Sendable () -> Int?

        /// Creates a source.
        public init(ready: @escaping @Sendable () -> Void, timeout: @escaping @Sendable () -> Int? = { nil }) {
            self.ready = ready
            self.timeout = timeout
        }
    }

    private struct Queue {
        var jobs: [UnownedJob] = []
        var blocks: [@Sendable () -> Void] = []
        var woken = false
        var pollRequested = false
        var stopping = false
    }

    private let epoll: Int32
    private let wakeup: Int32
    private let queue = Mutex(Queue())
    private let threadID = Atomic<UInt>(0)
    private let exited = LoopCondition()
    private var sources: [Int32: Source] = [:]

    /// Creates the loop and starts its thread.
    public init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeup = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(epoll >= 0 && wakeup >= 0, "cannot create the event loop: \(String(cString: strerror(errno)))")
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeup))
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, &event)
        let started = LoopCondition()
        startDetachedThread { [self] in
            threadID.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .releasing)
            started.signal()
            run()
        }
        started.wait()
    }

    deinit {
        close(wakeup)
        close(epoll)
    }

    /// Whether the caller runs on the loop thread.
    public var isCurrent: Bool {
        threadID.load(ordering: .acquiring) == UInt(bitPattern: Int(bitPattern: pthread_self()))
    }

    // MARK: Executor

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let wake = queue.withLock { queue in
            queue.jobs.append(job)
            return takeWake(&queue)
        }
        if wake { signal() }
    }

    public func checkIsolated() {
        precondition(isCurrent, "expected to run on fwsessiond's event loop thread")
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    // MARK: Blocks and sources

    /// Runs `body` on the loop thread, soon (at once when already there).
    public func execute(_ body: @escaping @Sendable () -> Void) {
        if isCurrent {
            body()
            return
        }
        let wake = queue.withLock { queue in
            queue.blocks.append(body)
            return takeWake(&queue)
        }
        if wake { signal() }
    }

    /// Runs `body` on the loop thread and waits for it (at once when already there). For the few
    /// steps that must not overlap the loop's own use of a resource: adding or stopping a daemon.
    public func executeAndWait<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        if isCurrent { return body() }
        let done = LoopCondition()
        let result = Mutex<T?>(nil)
        execute {
            let value = body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    /// Asks every source to look for work before the loop sleeps again (libmicrohttpd after a
    /// connection was resumed: its epoll descriptor does not always say so).
    public func pollSources() {
        let wake = queue.withLock { queue in
            queue.pollRequested = true
            return takeWake(&queue)
        }
        if wake { signal() }
    }

    /// Waits on `fd` from now on (on the loop thread).
    public func add(_ fd: Int32, _ source: Source) {
        executeAndWait { [self] in
            sources[fd] = source
            var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: fd))
            epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
        }
    }

    /// Stops waiting on `fd` (on the loop thread; the source is not called afterwards).
    public func remove(_ fd: Int32) {
        executeAndWait { [self] in
            epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
            sources[fd] = nil
        }
    }

    /// Runs what is queued, then ends the thread; returns once it ended.
    public func stop() {
        let wake = queue.withLock { queue in
            queue.stopping = true
            return takeWake(&queue)
        }
        if wake { signal() }
        if isCurrent { return }
        exited.wait()
    }

    // MARK: The loop

    private func takeWake(_ queue: inout Queue) -> Bool {
        guard !queue.woken else { return false }
        queue.woken = true
        return true
    }

    private func signal() {
        var one: UInt64 = 1
        _ = write(wakeup, &one, 8)
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let (jobs, blocks, stopping, pollRequested) = queue.withLock { queue in
                defer {
                    queue.jobs.removeAll(keepingCapacity: true)
                    queue.blocks.removeAll(keepingCapacity: true)
                    queue.woken = false
                    queue.pollRequested = false
                }
                return (queue.jobs, queue.blocks, queue.stopping, queue.pollRequested)
            }
            for block in blocks { block() }
            for job in jobs {
                job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
            }
            // What ran may have changed what a source has to do (a suspended connection was
            // resumed): let each look before the loop sleeps.
            if !jobs.isEmpty || !blocks.isEmpty || pollRequested {
                for source in sources.values { source.ready() }
            }
            if stopping && jobs.isEmpty && blocks.isEmpty { break }
            let pending = queue.withLock { !$0.jobs.isEmpty || !$0.blocks.isEmpty || $0.pollRequested || $0.stopping }
            var timeout: Int32 = pending ? 0 : -1
            for source in sources.values {
                if let due = source.timeout() {
                    let capped = Int32(clamping: max(0, due))
                    timeout = timeout < 0 ? capped : min(timeout, capped)
                }
            }
            let count = events.withUnsafeMutableBufferPointer { buffer in
                epoll_wait(epoll, buffer.baseAddress, Int32(buffer.count), timeout)
            }
            var served: [Int32] = []
            if count > 0 {
                for event in events[0..<Int(count)] {
                    let fd = event.data.fd
                    if fd == wakeup {
                        var value: UInt64 = 0
                        _ = read(wakeup, &value, 8)
                    } else if let source = sources[fd] {
                        served.append(fd)
                        source.ready()
                    }
                }
            }
            // A source whose deadline passed gets its call even without events (timeouts).
            if timeout == 0 || count == 0 {
                for (fd, source) in sources where !served.contains(fd) {
                    if let due = source.timeout(), due <= 0 { source.ready() }
                }
            }
        }
        exited.signal()
    }
}
