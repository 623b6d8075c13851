import CMicroHTTPD
import EventLoop
import Glibc
import Logging
import Synchronization

/// An HTTP/1.1 server over libmicrohttpd that hands each complete request to an ``HTTPResponder``.
///
/// libmicrohttpd's threads parse and write; each request's answer is computed in its own task
/// while its connection is suspended, so no MHD thread ever waits on Swift concurrency (why, and
/// the pitfalls of bridging the two: docs/LIBMICROHTTPD.md).
/// Call ``shutdown()`` to stop: the running daemon holds a reference to the server until then.
public final class HTTPServer: Sendable {
    let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    let logger: Logger
    /// Where libmicrohttpd runs when it has no threads of its own (one HTTP thread, the default):
    /// the event loop that also owns the application's state, so reads are answered in the
    /// callback. Nil: libmicrohttpd's own polling thread (or threads, `threadPoolSize` > 1).
    let loop: EventLoop?
    let admission = RequestAdmission()
    private let lifecycle = Mutex<Lifecycle>(.idle)
    private let boundPort = Atomic<UInt16>(0)
    /// The TLS settings requests are checked against (replaced by ``reloadTLS(_:)``).
    let currentTLS: Mutex<HTTPTLSConfiguration?>
    /// Daemons replaced by a TLS reload: they serve the connections they had until those close.
    let retiredDaemons = Mutex<[RunningDaemon]>([])
    /// Streamed responses being sent, checked every ``streamCheckInterval`` for a peer that left.
    let openStreams = Mutex<[ObjectIdentifier: StreamingResponse]>([:])
    private let streamWatcher = Mutex<Task<Void, Never>?>(nil)
    /// How often open streams are checked for a peer that closed its end.
    static let streamCheckInterval: Duration = .milliseconds(500)
    /// Collects libmicrohttpd's messages while ``start()`` runs, so a failure can say why.
    /// Separate from `lifecycle` because MHD logs from inside `MHD_start_daemon`.
    private let startupMessages = Mutex<[String]?>(nil)

    /// Where the server is between ``start()`` and ``shutdown()``.
    private enum Lifecycle {
        case idle
        case starting
        case running(RunningDaemon)
        /// `MHD_stop_daemon` is under way; later shutdown calls wait here.
        case stopping(waiters: [CheckedContinuation<Void, Never>])
        case stopped
    }

    /// A started daemon and the reference to the server that its callbacks use.
    ///
    /// `@unchecked Sendable`: the daemon pointer is only passed from ``start()`` to ``shutdown()``
    /// through the `lifecycle` lock, and MHD allows stopping a daemon from any thread.
    struct RunningDaemon: @unchecked Sendable {
        let daemon: OpaquePointer
        let retainedServer: Unmanaged<HTTPServer>
    }

    /// The libmicrohttpd the process runs with, e.g. `0.9.75`.
    public static var libraryVersion: String { String(cString: MHD_get_version()) }

    /// Creates a server; nothing listens until ``start()``. With `loop` (and one HTTP thread),
    /// libmicrohttpd runs on that loop's thread instead of a thread of its own.
    public init(configuration: HTTPServerConfiguration, responder: any HTTPResponder, logger: Logger, loop: EventLoop? = nil) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        self.loop = configuration.threadPoolSize > 1 ? nil : loop
        currentTLS = Mutex(configuration.tls)
    }

    /// Binds the configured address and starts serving.
    ///
    /// - Throws: ``HTTPServerError`` for an invalid configuration or host, an address that cannot
    ///   be bound (with libmicrohttpd's reason), or a server already started or shut down.
    public func start() throws(HTTPServerError) {
        try configuration.validate()
        let address = try SocketAddress(host: configuration.host, port: configuration.port)
        try lifecycle.withLock { state throws(HTTPServerError) in
            guard case .idle = state else { throw HTTPServerError("the HTTP server was already started") }
            state = .starting
        }

        let launched = address.withSockAddrPointer { sockAddr in
            launchDaemon(.bind(sockAddr), tls: configuration.tls, ipv6: address.isIPv6)
        }
        let running: RunningDaemon
        switch launched {
        case .success(let started):
            running = started
        case .failure(let failure):
            lifecycle.withLock { $0 = .idle }
            throw HTTPServerError("cannot listen for HTTP on \(listenDescription): \(failure.description)")
        }
        boundPort.store(fws_mhd_bound_port(running.daemon), ordering: .releasing)
        let shutDownMeanwhile = lifecycle.withLock { state in
            guard case .starting = state else { return true }
            state = .running(running)
            return false
        }
        if shutDownMeanwhile {
            // shutdown() ran while MHD was starting and found nothing to stop; stop it here.
            stop(running)
            throw HTTPServerError("the HTTP server was shut down while it was starting")
        }
        logger.info(
            "HTTP server listening",
            metadata: ["http.host": "\(configuration.host)", "http.port": "\(port)"])
        startWatchingStreams()
    }

    /// Checks the open streams for peers that left until the server shuts down: a suspended
    /// connection is invisible to libmicrohttpd's polling (see ``StreamingResponse``).
    private func startWatchingStreams() {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.streamCheckInterval)
                guard let self else { return }
                for stream in openStreams.withLock({ Array($0.values) }) { stream.endIfPeerClosed() }
                stopIdleRetiredDaemons()
            }
        }
        streamWatcher.withLock { $0 = task }
    }

    /// The daemon serving new connections, while running.
    var runningDaemon: RunningDaemon? {
        lifecycle.withLock { state in
            guard case .running(let running) = state else { return nil }
            return running
        }
    }

    /// Makes `replacement` the daemon serving new connections (a reload); false once shutting down.
    func swapRunningDaemon(to replacement: RunningDaemon) -> Bool {
        lifecycle.withLock { state in
            guard case .running = state else { return false }
            state = .running(replacement)
            return true
        }
    }

    /// The port bound by ``start()`` (the kernel's choice when port 0 was asked); 0 before start.
    public var port: UInt16 {
        boundPort.load(ordering: .acquiring)
    }

    /// Requests taken on and not yet fully answered (including those whose body is still arriving).
    public var inFlightRequests: Int {
        admission.inFlight
    }

    /// Refuses new requests from now on with ``HTTPRejection/shuttingDown``; requests already
    /// started finish. Responses sent while draining carry `Connection: close`.
    public func beginDraining() {
        admission.beginDraining()
    }

    /// Drains, waits until every started request is answered, then stops libmicrohttpd.
    ///
    /// Waits as long as the responder takes: a suspended connection has no timeout, and stopping
    /// the daemon while one is suspended is undefined behaviour in libmicrohttpd. Safe to call more
    /// than once and concurrently; every call returns once the daemon is stopped.
    public func shutdown() async {
        beginDraining()
        await admission.waitUntilDrained()
        streamWatcher.withLock { task in
            task?.cancel()
            task = nil
        }

        enum Step {
            case stop(RunningDaemon)
            case waitForOtherCall
            case done
        }
        let step: Step = lifecycle.withLock { state in
            switch state {
            case .running(let running):
                state = .stopping(waiters: [])
                return .stop(running)
            case .stopping:
                return .waitForOtherCall
            case .idle, .starting, .stopped:
                state = .stopped
                return .done
            }
        }
        switch step {
        case .done:
            return
        case .waitForOtherCall:
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let stoppedAlready = lifecycle.withLock { state in
                    guard case .stopping(var waiters) = state else { return true }
                    waiters.append(continuation)
                    state = .stopping(waiters: waiters)
                    return false
                }
                if stoppedAlready { continuation.resume() }
            }
        case .stop(let running):
            stop(running)
            for retired in retiredDaemons.withLock({ list in defer { list = [] }; return list }) { stop(retired) }
            let waiters = lifecycle.withLock { state in
                defer { state = .stopped }
                guard case .stopping(let waiters) = state else { return [CheckedContinuation<Void, Never>]() }
                return waiters
            }
            for waiter in waiters { waiter.resume() }
            logger.info("HTTP server stopped", metadata: ["http.port": "\(port)"])
        }
    }

    /// Where a daemon listens: an address to bind, or a socket that is listening already.
    enum Listener {
        case bind(UnsafeMutableRawPointer)
        case socket(Int32)
    }

    /// Starts one libmicrohttpd daemon for this server with `tls`; the failure is MHD's reason.
    func launchDaemon(_ listener: Listener, tls: HTTPTLSConfiguration?, ipv6: Bool) -> Result<RunningDaemon, HTTPServerError> {
        let retained = Unmanaged.passRetained(self)
        startupMessages.withLock { $0 = [] }
        // MHD hands the PEM text to GnuTLS while it starts; the copies live until then.
        let daemon = withTLSStrings(tls) { certificate, key, trust in
            let options = daemonOptions(listener, certificate: certificate, key: key, trust: trust)
            return options.withUnsafeBufferPointer { items in
                fws_mhd_start_daemon(
                    daemonFlags(ipv6: ipv6, tls: tls != nil), configuration.port,
                    mhdAccessHandler, mhdRequestCompleted, mhdRequestStarted, mhdLog,
                    retained.toOpaque(), items.baseAddress)
            }
        }
        let messages = startupMessages.withLock { messages in
            defer { messages = nil }
            return messages ?? []
        }
        guard let daemon else {
            retained.release()
            return .failure(HTTPServerError(messages.isEmpty ? "libmicrohttpd could not start" : messages.joined(separator: "; ")))
        }
        let running = RunningDaemon(daemon: daemon, retainedServer: retained)
        if let loop {
            let descriptor = fws_mhd_epoll_fd(daemon)
            guard descriptor >= 0 else {
                stop(running)
                return .failure(HTTPServerError("libmicrohttpd gave no epoll descriptor to run it on the event loop"))
            }
            loop.add(descriptor, EventLoop.Source(
                ready: { MHD_run(running.daemon) },
                timeout: { let due = fws_mhd_timeout_ms(running.daemon); return due < 0 ? nil : Int(clamping: due) }))
        }
        return .success(running)
    }

    /// Stops the daemon and drops its reference to the server.
    ///
    /// Quiescing first closes the listening socket to new connections before the connections that
    /// are left (idle keep-alive ones) are torn down. `MHD_stop_daemon` joins MHD's threads, which
    /// blocks the caller briefly; that happens once per server.
    func stop(_ running: RunningDaemon) {
        onDaemonThread {
            if let loop = self.loop { loop.remove(fws_mhd_epoll_fd(running.daemon)) }
            let listenSocket = MHD_quiesce_daemon(running.daemon)
            MHD_stop_daemon(running.daemon)
            // After a quiesce MHD leaves the listening socket to the caller, to close after the stop.
            if listenSocket >= 0 { close(listenSocket) }
        }
        running.retainedServer.release()
    }

    /// Runs `body` where libmicrohttpd may be driven: on the event loop when it runs there (so it
    /// never overlaps `MHD_run`), else right here.
    func onDaemonThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        guard let loop else { return body() }
        return loop.executeAndWait(body)
    }

    /// Records a message libmicrohttpd logged, from whichever thread MHD logged it on.
    func recordLibraryMessage(_ message: String) {
        let duringStart = startupMessages.withLock { messages in
            guard messages != nil else { return false }
            messages?.append(message)
            return true
        }
        // A start failure is reported through the thrown error instead of twice.
        if !duringStart {
            // Mostly about misbehaving clients (closed early, headers too large): info, not warning,
            // so a hostile client cannot flood the warnings.
            logger.info("libmicrohttpd reported a problem", metadata: ["mhd.message": "\(message)"])
        }
    }

    private var listenDescription: String {
        configuration.host.contains(":") && !configuration.host.hasPrefix("[")
            ? "[\(configuration.host)]:\(configuration.port)"
            : "\(configuration.host):\(configuration.port)"
    }

    private func daemonFlags(ipv6: Bool, tls: Bool) -> UInt32 {
        var flags = MHD_USE_EPOLL.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue | MHD_USE_ERROR_LOG.rawValue
        // On the event loop, the loop polls MHD's epoll descriptor and calls MHD_run.
        if loop == nil { flags |= MHD_USE_INTERNAL_POLLING_THREAD.rawValue }
        if ipv6 { flags |= MHD_USE_IPv6.rawValue }
        if tls { flags |= MHD_USE_TLS.rawValue }
        return flags
    }

    /// Runs `body` with NUL-terminated copies of the TLS PEM texts (nil where not configured).
    private func withTLSStrings<T>(
        _ tls: HTTPTLSConfiguration?,
        _ body: (UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?) -> T
    ) -> T {
        let copies = [
            tls?.certificatePEM, tls?.privateKeyPEM, tls?.clientCertificateAuthorityPEM,
        ].map { text in text.flatMap { strdup($0) } }
        defer { for copy in copies { free(copy) } }
        return body(copies[0], copies[1], copies[2])
    }

    /// The options besides the callbacks, which the shim adds itself; ends with `MHD_OPTION_END`.
    ///
    /// `MHD_OPTION_LISTENING_ADDRESS_REUSE` is left out on purpose. Without it MHD sets
    /// `SO_REUSEADDR`, which is what lets a restart bind while old connections sit in TIME_WAIT.
    /// Setting it to 1 adds `SO_REUSEPORT`, and then a second server on the same port starts
    /// without error and silently shares the traffic with the first.
    private func daemonOptions(
        _ listener: Listener, certificate: UnsafeMutablePointer<CChar>?,
        key: UnsafeMutablePointer<CChar>?, trust: UnsafeMutablePointer<CChar>?
    ) -> [MHD_OptionItem] {
        var options = [
            MHD_OptionItem(option: .CONNECTION_LIMIT, value: configuration.connectionLimit, ptr_value: nil),
            MHD_OptionItem(option: .CONNECTION_TIMEOUT, value: configuration.connectionTimeoutSeconds, ptr_value: nil),
            MHD_OptionItem(option: .CONNECTION_MEMORY_LIMIT, value: configuration.connectionMemoryLimitBytes, ptr_value: nil),
        ]
        switch listener {
        case .bind(let sockAddr):
            options.append(MHD_OptionItem(option: .SOCK_ADDR, value: 0, ptr_value: sockAddr))
        case .socket(let descriptor):
            options.append(MHD_OptionItem(option: .LISTEN_SOCKET, value: Int(descriptor), ptr_value: nil))
        }
        if let certificate, let key {
            options.append(MHD_OptionItem(option: .HTTPS_MEM_CERT, value: 0, ptr_value: certificate))
            options.append(MHD_OptionItem(option: .HTTPS_MEM_KEY, value: 0, ptr_value: key))
        }
        if let trust {
            // Makes GnuTLS ask for a client certificate; each request checks it (receiveHeaders).
            options.append(MHD_OptionItem(option: .HTTPS_MEM_TRUST, value: 0, ptr_value: trust))
        }
        if configuration.threadPoolSize > 1 {
            options.append(MHD_OptionItem(option: .THREAD_POOL_SIZE, value: configuration.threadPoolSize, ptr_value: nil))
        }
        options.append(MHD_OptionItem(option: .END, value: 0, ptr_value: nil))
        return options
    }
}
