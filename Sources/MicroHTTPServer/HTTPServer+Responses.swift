import CMicroHTTPD
import Logging
import Synchronization

extension HTTPServer {
    /// Hands `response` to libmicrohttpd for `connection`; MHD adds `Content-Length` and `Date`.
    ///
    /// The body is copied (`RESPMEM_MUST_COPY`): a Swift array's storage is only guaranteed
    /// inside `withUnsafeBytes`, and MHD sends after this returns. Bodies here are small.
    func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
        let created: OpaquePointer?
        if let stream = response.stream {
            created = streamedResponse(stream, on: connection)
        } else {
            created = response.body.withUnsafeBytes { body in
                MHD_create_response_from_buffer(
                    body.count, UnsafeMutableRawPointer(mutating: body.baseAddress),
                    body.isEmpty ? .RESPMEM_PERSISTENT : .RESPMEM_MUST_COPY)
            }
        }
        guard let created else { return .NO }
        defer { MHD_destroy_response(created) }

        for field in response.headers where !HTTPHeaders.namesMatch(field.name, "Content-Length") {
            if MHD_add_response_header(created, field.name, field.value) == .NO {
                // MHD refuses malformed fields (e.g. with CR or LF); a responder bug, not the client's.
                logger.warning("HTTP response header refused", metadata: ["http.header": "\(field.name)"])
            }
        }
        if admission.isDraining {
            // Tells keep-alive clients to go elsewhere instead of reusing a connection about to close.
            _ = MHD_add_response_header(created, "Connection", "close")
        }
        return MHD_queue_response(connection, UInt32(clamping: response.status), created)
    }

    /// A chunked response whose bytes come from `stream` as it produces them.
    private func streamedResponse(_ stream: any HTTPBodyStream, on connection: OpaquePointer) -> OpaquePointer? {
        let streaming = StreamingResponse(stream: stream, connection: connection, loop: loop) { [weak self] closed in
            self?.openStreams.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(closed)) }
        }
        openStreams.withLock { $0[ObjectIdentifier(streaming)] = streaming }
        stream.setReadableHandler { [weak streaming] in streaming?.signal() }
        let retained = Unmanaged.passRetained(streaming)
        guard
            let created = MHD_create_response_from_callback(
                UInt64.max, 16 * 1024, mhdStreamRead, retained.toOpaque(), mhdStreamFree)
        else {
            retained.release()
            streaming.close()
            return nil
        }
        return created
    }
}
