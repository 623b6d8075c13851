import FirewallSessions
import StrictJSON

/// Feeds arbitrary bytes to every parser of untrusted text: JSON, addresses, ranges, GUIDs.
/// A crash, a trap or a broken round trip is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func parserFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let value = try? JSONParser.parse(bytes) {
        var writer = JSONWriter()
        writer.value(value)
        guard let again = try? JSONParser.parse(writer.bytes), again == value else {
            fatalError("JSON round trip changed the value")
        }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let address = IPAddress(text) {
        guard IPAddress(address.description) == address else { fatalError("address round trip: \(text)") }
    }
    if case .success(let socket) = SocketAddress.parse(text) {
        guard case .success(socket) = SocketAddress.parse(socket.description) else { fatalError("socket round trip: \(text)") }
    }
    if case .success(let range) = IPRange.parse(text) {
        guard case .success(range) = IPRange.parse(range.description) else { fatalError("range round trip: \(text)") }
        var set = IPRangeSet()
        set.include(range)
        guard set.contains(range.lower), set.contains(range.upper) else { fatalError("range set lost its ends") }
    }
    if let guid = ProtocolGUID(text) {
        guard ProtocolGUID(guid.description) == guid else { fatalError("GUID round trip: \(text)") }
    }
    return 0
}
