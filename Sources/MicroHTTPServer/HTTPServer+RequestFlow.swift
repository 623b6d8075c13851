import CGnuTLS
import CMicroHTTPD
import EventLoop
import Synchronization

/// One request's way through the access handler, which libmicrohttpd calls several times:
/// once when the headers are in, once per body chunk, once when the body is complete, and once
/// more after the connection is resumed. All of it runs on an MHD thread and must not block.
extension HTTPServer {
    /// Moves `context` one step forward for the access-handler call just made.
    func advance(
        _ context: RequestContext,
        connection: OpaquePointer,
        method: UnsafePointer<CChar>,
        uploadData: UnsafePointer<CChar>?,
        uploadDataSize: UnsafeMutablePointer<Int>
    ) -> MHD_Result {
        switch context.phase {
        case .awaitingHeaders:
            return receiveHeaders(context, connection: connection, method: method)
        case .receivingBody, .discardingBody:
            guard uploadDataSize.pointee == 0 else {
                if let uploadData { receiveBodyChunk(context, UnsafeRawPointer(uploadData), count: uploadDataSize.pointee) }
                uploadDataSize.pointee = 0
                return .YES
            }
            return finishRequest(context, connection: connection)
        case .responding:
            // Re-entry after the responder task resumed the connection.
            guard let response = context.response else { return .NO }
            context.response = nil
            context.phase = .answered
            return queue(response, on: connection)
        case .answered:
            // MHD does not call again once a response is queued; if it did, end the connection.
            return .NO
        }
    }

    /// The first call: admit or refuse the request, and record what the responder needs.
    private func receiveHeaders(
        _ context: RequestContext, connection: OpaquePointer, method: UnsafePointer<CChar>
    ) -> MHD_Result {
        context.request.method = String(cString: method)
        if let address = fws_mhd_client_address(connection) {
            context.request.remoteAddress = SocketAddress.describe(address)
        }
        guard admission.tryAdmit() else {
            return reject(.shuttingDown, context, connection: connection)
        }
        context.admitted = true
        if currentTLS.withLock({ $0?.clientCertificateAuthorityPEM != nil })
            && fws_gnutls_verify_peer(fws_mhd_tls_session(connection)) != 0
        {
            return reject(.clientCertificateRejected, context, connection: connection)
        }
        // Answered here, as problem+json from the responder, while the head still fits in MHD's
        // connection memory (a head that does not fit at all gets libmicrohttpd's own answer).
        let targetBytes = context.request.path.utf8.count + (context.request.query.map { $0.utf8.count + 1 } ?? 0)
        if targetBytes > configuration.maxRequestTargetBytes {
            return reject(.requestTargetTooLong(limit: configuration.maxRequestTargetBytes), context, connection: connection)
        }
        collectHeaders(into: context, from: connection)
        if context.request.headers.byteCount > configuration.maxHeaderBytes {
            return reject(.headerFieldsTooLarge(limit: configuration.maxHeaderBytes), context, connection: connection)
        }

        let declaredLength = declaredContentLength(connection)
        if let declaredLength, declaredLength > configuration.maxBodyBytes {
            // Answering now, before MHD sends "100 Continue" or reads the body; MHD then discards
            // whatever body arrives and closes the connection after the response.
            return reject(.bodyTooLarge(limit: configuration.maxBodyBytes), context, connection: connection)
        }
        if let declaredLength, declaredLength > 0 {
            // Capped, so a client that only announces a big body cannot make every connection
            // allocate the whole limit up front; larger bodies grow as they arrive.
            context.request.body.reserveCapacity(min(declaredLength, 65_536))
        }
        context.phase = .receivingBody
        return .YES
    }

    /// Stores a body chunk, or starts discarding once the body outgrows the limit (a chunked upload
    /// declares no length). MHD cannot queue a response while it delivers upload data, so the 413
    /// waits for the end of the body.
    private func receiveBodyChunk(_ context: RequestContext, _ data: UnsafeRawPointer, count: Int) {
        guard case .receivingBody = context.phase else { return }
        guard context.request.body.count + count <= configuration.maxBodyBytes else {
            context.phase = .discardingBody
            context.request.body = []
            return
        }
        context.request.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count))
    }

    /// The body is complete: suspend the connection, then let a task ask the responder.
    ///
    /// Suspending comes first because resuming a connection that is not suspended is undefined
    /// behaviour, and the task may finish before this call returns.
    private func finishRequest(_ context: RequestContext, connection: OpaquePointer) -> MHD_Result {
        if case .discardingBody = context.phase {
            return reject(.bodyTooLarge(limit: configuration.maxBodyBytes), context, connection: connection)
        }
        let request = context.takeRequest()
        let responder = self.responder
        context.phase = .responding
        MHD_suspend_connection(connection)
        let suspended = SuspendedConnection(connection, loop: loop)
        // On the event loop the task runs on the same thread, right after this pass of MHD.
        Task(executorPreference: loop) {
            context.response = await responder.respond(to: request)
            suspended.resume()
        }
        return .YES
    }

    private func reject(
        _ rejection: HTTPRejection, _ context: RequestContext, connection: OpaquePointer
    ) -> MHD_Result {
        let response = responder.reject(
            rejection, method: context.request.method, path: context.request.path, remoteAddress: context.request.remoteAddress)
        context.phase = .answered
        return queue(response, on: connection)
    }

    /// The request's Content-Length as MHD accepted it (MHD itself answers 400 to a malformed one);
    /// nil when absent. A value too large for `Int` counts as `Int.max`, still over any limit.
    private func declaredContentLength(_ connection: OpaquePointer) -> Int? {
        guard let text = MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Length") else {
            return nil
        }
        var length = 0
        var digit = text
        while digit.pointee >= 0x30 && digit.pointee <= 0x39 {
            let (times10, overflow1) = length.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(digit.pointee - 0x30))
            if overflow1 || overflow2 { return Int.max }
            length = sum
            digit += 1
        }
        return length
    }

    private func collectHeaders(into context: RequestContext, from connection: OpaquePointer) {
        context.request.headers.reserveCapacity(8)
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        _ = MHD_get_connection_values_n(connection, .HEADER_KIND, mhdCollectHeader, contextPointer)
    }
}

/// A suspended connection, handed to the task that will resume it.
///
/// `@unchecked Sendable`: libmicrohttpd allows `MHD_resume_connection` from any thread, and the
/// task resumes exactly once, while the daemon is kept running until every admitted request ends.
struct SuspendedConnection: @unchecked Sendable {
    private let connection: OpaquePointer
    /// The loop libmicrohttpd runs on, if it has no thread of its own.
    private let loop: EventLoop?

    init(_ connection: OpaquePointer, loop: EventLoop? = nil) {
        self.connection = connection
        self.loop = loop
    }

    /// Tells MHD to call the access handler (or the content reader) again for this connection.
    func resume() {
        MHD_resume_connection(connection)
        // On the loop, MHD only gets to the resumed connection when it runs again.
        loop?.pollSources()
    }

    /// Takes the connection out of MHD's event loop (from the access handler or a content reader).
    func suspend() {
        MHD_suspend_connection(connection)
    }
}
