import FirewallSessions
import MicroHTTPServer
import StrictJSON

/// The answer of an array node asked to change (or decide for) something another live node
/// holds: `307 Temporary Redirect` to the same path under that node's advertised URL (the method
/// and body are repeated there, as RFC 9110 requires of 307), with a small JSON body naming it.
enum ArrayRedirect {
    static func response(to holder: HolderLocation, instance: String, detail: String) -> HTTPResponse {
        let base = holder.baseURL.hasSuffix("/") ? String(holder.baseURL.dropLast()) : holder.baseURL
        let location = base + instance
        var writer = JSONWriter(reservingCapacity: 192)
        writer.beginObject()
        writer.field("detail", detail)
        writer.field("node", holder.node)
        writer.field("location", location)
        writer.endObject()
        let headers = HTTPHeaders([(name: "Content-Type", value: "application/json"), (name: "Location", value: location)])
        return HTTPResponse(status: 307, headers: headers, body: writer.bytes)
    }
}
