import Glibc

/// The state of one request, hung off libmicrohttpd's per-request pointer (`*con_cls`).
///
/// Created by the URI callback, released by the completion callback.
///
/// `@unchecked Sendable`: it is touched by one thread at a time, and every hand-over is ordered by
/// a lock. The MHD thread fills it, then suspends the connection and creates the responder task
/// (task creation orders those writes before the task runs). The task only writes `response` and
/// then calls `MHD_resume_connection`, which takes a daemon mutex that the MHD thread also takes
/// before it calls the handler again and reads `response`.
final class RequestContext: @unchecked Sendable {
    /// Where the request is in its life; each access-handler call moves it forward.
    enum Phase {
        /// The URI is known, headers not yet seen (the first handler call comes next).
        case awaitingHeaders
        /// Admitted; body chunks arrive until a call with no data marks the end.
        case receivingBody
        /// The body passed the limit: further chunks are discarded and the end answers 413.
        case discardingBody
        /// Suspended while the responder runs; the next call queues `response`.
        case responding
        /// A response is queued; MHD calls the handler no more.
        case answered
    }

    /// Where the request is; decides what the next access-handler call means.
    var phase = Phase.awaitingHeaders
    /// Whether this request holds a place in ``RequestAdmission``, given back on completion.
    var admitted = false
    /// The request being assembled; handed to the responder whole.
    var request: HTTPRequest
    /// The responder's answer, stored by the task before it resumes the connection.
    var response: HTTPResponse?

    /// Creates the context from the raw request target, split at its first `?`.
    init(rawTarget: UnsafePointer<CChar>) {
        let (path, query) = Self.split(rawTarget)
        request = HTTPRequest(method: "", path: path, query: query)
    }

    /// Moves the finished request out, so the responder holds the only reference to its body.
    func takeRequest() -> HTTPRequest {
        var taken = HTTPRequest(method: "", path: "")
        swap(&taken, &request)
        return taken
    }

    /// Splits a NUL-terminated request target into its path and raw query, without decoding.
    ///
    /// An absolute-form target (`http://host/path?query`, RFC 9112 3.2.2), which servers must
    /// accept, loses its scheme and authority so that the path reads the same either way.
    static func split(_ target: UnsafePointer<CChar>) -> (path: String, query: String?) {
        var bytes = UnsafeBufferPointer(
            start: UnsafeRawPointer(target).assumingMemoryBound(to: UInt8.self), count: strlen(target))[...]
        var pathPrefix = ""
        if let authorityStart = absoluteFormAuthorityStart(bytes) {
            bytes = bytes[authorityStart...]
            let pathStart = bytes.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.endIndex
            bytes = bytes[pathStart...]
            if bytes.first != UInt8(ascii: "/") { pathPrefix = "/" }
        }
        guard let mark = bytes.firstIndex(of: UInt8(ascii: "?")) else {
            return (pathPrefix + String(decoding: bytes, as: UTF8.self), nil)
        }
        return (
            pathPrefix + String(decoding: bytes[..<mark], as: UTF8.self),
            String(decoding: bytes[(mark + 1)...], as: UTF8.self)
        )
    }

    /// Where the authority begins when `target` starts with `scheme://`; nil for the usual
    /// origin-form (`/path`) and for `*`.
    private static func absoluteFormAuthorityStart(_ target: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        guard let first = target.first, first != UInt8(ascii: "/"), first != UInt8(ascii: "*") else { return nil }
        let schemeEnd = target.firstIndex { !isSchemeCharacter($0) } ?? target.endIndex
        guard schemeEnd > target.startIndex,
            target[schemeEnd...].starts(with: [UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "/")])
        else { return nil }
        return schemeEnd + 3
    }

    private static func isSchemeCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}
