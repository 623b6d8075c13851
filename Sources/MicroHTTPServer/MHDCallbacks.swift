import CMicroHTTPD
import Glibc

// The C callbacks given to libmicrohttpd. They are global functions in a file other than
// main.swift on purpose: a closure written at the top level of main.swift is main-actor isolated,
// and the isolation check Swift inserts traps when MHD calls it on its own thread (LIBMICROHTTPD.md).
// `cls` is always the HTTPServer, retained for the daemon's lifetime by start().

/// MHD_OPTION_URI_LOG_CALLBACK: called once per request with the request target exactly as sent.
/// MHD percent-decodes the `url` it gives the access handler; this is the only raw copy. The
/// returned context becomes the request's `*con_cls`, released in ``mhdRequestCompleted``.
func mhdRequestStarted(
    _ cls: UnsafeMutableRawPointer?, _ uri: UnsafePointer<CChar>?, _ connection: OpaquePointer?
) -> UnsafeMutableRawPointer? {
    guard let uri else { return nil }
    return Unmanaged.passRetained(RequestContext(rawTarget: uri)).toOpaque()
}

/// The access handler (MHD_AccessHandlerCallback); see ``HTTPServer/advance(_:connection:method:uploadData:uploadDataSize:)``.
func mhdAccessHandler(
    _ cls: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ url: UnsafePointer<CChar>?,
    _ method: UnsafePointer<CChar>?,
    _ version: UnsafePointer<CChar>?,
    _ uploadData: UnsafePointer<CChar>?,
    _ uploadDataSize: UnsafeMutablePointer<Int>?,
    _ requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls, let connection, let method, let uploadDataSize, let requestContext else { return .NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    let context: RequestContext
    if let existing = requestContext.pointee {
        context = Unmanaged<RequestContext>.fromOpaque(existing).takeUnretainedValue()
    } else {
        // The URI callback always runs first; should it not have, fall back to MHD's decoded URL.
        guard let url else { return .NO }
        context = RequestContext(rawTarget: url)
        requestContext.pointee = Unmanaged.passRetained(context).toOpaque()
    }
    return server.advance(
        context, connection: connection, method: method, uploadData: uploadData, uploadDataSize: uploadDataSize)
}

/// MHD_OPTION_NOTIFY_COMPLETED: the request is over (answered, failed, timed out, or the daemon is
/// stopping). Releases its context and gives back its place in the in-flight count.
func mhdRequestCompleted(
    _ cls: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ reason: MHD_RequestTerminationCode
) {
    guard let cls, let requestContext, let raw = requestContext.pointee else { return }
    requestContext.pointee = nil
    let context = Unmanaged<RequestContext>.fromOpaque(raw).takeRetainedValue()
    if context.admitted {
        Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().admission.complete()
    }
}

/// MHD_KeyValueIteratorN for MHD_get_connection_values_n; `cls` is the RequestContext, unretained.
func mhdCollectHeader(
    _ cls: UnsafeMutableRawPointer?,
    _ kind: MHD_ValueKind,
    _ name: UnsafePointer<CChar>?,
    _ nameLength: Int,
    _ value: UnsafePointer<CChar>?,
    _ valueLength: Int
) -> MHD_Result {
    guard let cls, let name else { return .YES }
    let context = Unmanaged<RequestContext>.fromOpaque(cls).takeUnretainedValue()
    context.request.headers.add(name: decode(name, nameLength), value: value.map { decode($0, valueLength) } ?? "")
    return .YES
}

/// MHD_OPTION_EXTERNAL_LOGGER: formats MHD's printf-style message and hands it to the server.
func mhdLog(_ cls: UnsafeMutableRawPointer?, _ format: UnsafePointer<CChar>?, _ arguments: CVaListPointer?) {
    guard let cls, let format, let arguments else { return }
    let message = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 1024) { buffer -> String in
        let written = vsnprintf(buffer.baseAddress!, buffer.count, format, arguments)
        guard written >= 0 else { return String(cString: format) }
        let length = min(Int(written), buffer.count - 1)
        let bytes = UnsafeRawBufferPointer(start: buffer.baseAddress!, count: length)
        // MHD ends its messages with a newline, which a log line does not need.
        var text = String(decoding: bytes, as: UTF8.self)
        while text.last?.isNewline == true { text.removeLast() }
        return text
    }
    Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().recordLibraryMessage(message)
}

private func decode(_ text: UnsafePointer<CChar>, _ length: Int) -> String {
    String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
}
