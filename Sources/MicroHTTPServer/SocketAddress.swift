import CMicroHTTPD
import Glibc

/// An IP literal and port to bind, in the `sockaddr` form libmicrohttpd's `MHD_OPTION_SOCK_ADDR` takes.
enum SocketAddress {
    case ipv4(sockaddr_in)
    case ipv6(sockaddr_in6)

    /// Parses `host` as an IPv4 or IPv6 literal (brackets allowed around IPv6).
    init(host: String, port: UInt16) throws(HTTPServerError) {
        var literal = Substring(host)
        if literal.hasPrefix("["), literal.hasSuffix("]") {
            literal = literal.dropFirst().dropLast()
        }
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, String(literal), &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            self = .ipv4(v4)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, String(literal), &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            self = .ipv6(v6)
            return
        }
        throw HTTPServerError("invalid HTTP listen host '\(host)': expected an IPv4 or IPv6 address literal")
    }

    /// Whether libmicrohttpd needs `MHD_USE_IPv6` to bind this address.
    var isIPv6: Bool {
        if case .ipv6 = self { return true }
        return false
    }

    /// Calls `body` with a pointer to the `sockaddr`, valid only during the call.
    func withSockAddrPointer<Result>(_ body: (UnsafeMutableRawPointer) -> Result) -> Result {
        switch self {
        case .ipv4(var address):
            return withUnsafeMutableBytes(of: &address) { bytes in body(bytes.baseAddress!) }
        case .ipv6(var address):
            return withUnsafeMutableBytes(of: &address) { bytes in body(bytes.baseAddress!) }
        }
    }

    /// Formats a peer address as `"127.0.0.1:54321"` or `"[::1]:5000"`; nil for other families.
    static func describe(_ address: UnsafePointer<sockaddr>) -> String? {
        // INET6_ADDRSTRLEN (46) is a macro Swift does not import.
        var text = (Int64(0), Int64(0), Int64(0), Int64(0), Int64(0), Int64(0))
        return withUnsafeMutableBytes(of: &text) { buffer -> String? in
            let characters = buffer.baseAddress!.assumingMemoryBound(to: CChar.self)
            let capacity = socklen_t(buffer.count)
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                    var ip = v4.pointee.sin_addr
                    guard inet_ntop(AF_INET, &ip, characters, capacity) != nil else { return nil }
                    return "\(String(cString: characters)):\(UInt16(bigEndian: v4.pointee.sin_port))"
                }
            case AF_INET6:
                return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                    var ip = v6.pointee.sin6_addr
                    guard inet_ntop(AF_INET6, &ip, characters, capacity) != nil else { return nil }
                    return "[\(String(cString: characters))]:\(UInt16(bigEndian: v6.pointee.sin6_port))"
                }
            default:
                return nil
            }
        }
    }
}
