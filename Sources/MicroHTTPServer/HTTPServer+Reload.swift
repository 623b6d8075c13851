import CMicroHTTPD
import Glibc
import Logging
import Synchronization

extension HTTPServer {
    /// Takes new TLS settings (certificate, key, client CA; nil: plain HTTP) without dropping a
    /// connection: a new daemon is started on a copy of the listening socket with them, and only
    /// once it runs is the old one told to stop accepting. The old daemon keeps serving the
    /// connections it has (keep-alive clients, `/events` streams) until they close; new
    /// connections meet the new settings, and from now on every request is checked against them
    /// (a client CA added applies to old connections' next requests too).
    ///
    /// - Throws: ``HTTPServerError`` when the new daemon cannot start (a certificate GnuTLS
    ///   refuses, a key that does not match): the running daemon and settings stay as they were.
    public func reloadTLS(_ tls: HTTPTLSConfiguration?) throws(HTTPServerError) {
        guard let running = runningDaemon else { throw HTTPServerError("the HTTP server is not running") }
        let listening = fws_mhd_listen_fd(running.daemon)
        guard listening >= 0 else { throw HTTPServerError("the HTTP server has no listening socket") }
        let copy = dup(listening)
        guard copy >= 0 else { throw HTTPServerError("cannot reload TLS: dup: \(String(cString: strerror(errno)))") }
        let replacement: RunningDaemon
        switch launchDaemon(.socket(copy), tls: tls, ipv6: configuration.host.contains(":")) {
        case .success(let started):
            replacement = started
        case .failure(let failure):
            close(copy)
            throw HTTPServerError("cannot reload TLS: \(failure.description); the running settings stay")
        }
        guard swapRunningDaemon(to: replacement) else {
            stop(replacement)
            throw HTTPServerError("the HTTP server is shutting down")
        }
        currentTLS.withLock { $0 = tls }
        // The old daemon accepts nothing more (its copy of the socket is closed here), and is
        // stopped once its last connection is gone (`stopIdleRetiredDaemons`) or at shutdown.
        onDaemonThread {
            let socket = MHD_quiesce_daemon(running.daemon)
            if socket >= 0 { close(socket) }
        }
        retiredDaemons.withLock { $0.append(running) }
        logger.info("HTTP server reloaded its TLS settings", metadata: ["http.port": "\(port)", "http.tls": "\(tls != nil)"])
    }

    /// Stops daemons replaced by a reload that have no connection left.
    func stopIdleRetiredDaemons() {
        let retired = retiredDaemons.withLock { $0 }
        guard !retired.isEmpty else { return }
        // A quiesced daemon accepts nothing, so once it has no connection it keeps having none.
        let finished = Set(retired.filter { daemon in onDaemonThread { fws_mhd_connection_count(daemon.daemon) == 0 } }
            .map { Int(bitPattern: $0.daemon) })
        let idle = retiredDaemons.withLock { list in
            let done = list.filter { finished.contains(Int(bitPattern: $0.daemon)) }
            list.removeAll { finished.contains(Int(bitPattern: $0.daemon)) }
            return done
        }
        for daemon in idle { stop(daemon) }
    }
}
