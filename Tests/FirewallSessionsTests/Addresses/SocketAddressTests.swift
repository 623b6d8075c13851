import Testing

@testable import FirewallSessions

@Suite("SocketAddress")
struct SocketAddressTests {
    /// Text, the address and port it holds, and its canonical text.
    static let accepted: [(String, String, UInt16, String)] = [
        ("203.0.113.10:40000", "203.0.113.10", 40000, "203.0.113.10:40000"),
        ("0.0.0.0:21", "0.0.0.0", 21, "0.0.0.0:21"),
        ("255.255.255.255:65535", "255.255.255.255", 65535, "255.255.255.255:65535"),
        ("1.2.3.4:1", "1.2.3.4", 1, "1.2.3.4:1"),
        ("[2001:db8::1]:40000", "2001:db8::1", 40000, "[2001:db8::1]:40000"),
        ("[2001:DB8:0:0::1]:40000", "2001:db8::1", 40000, "[2001:db8::1]:40000"),
        ("[::]:5060", "::", 5060, "[::]:5060"),
        // IPv4-mapped: the IPv4 socket address, however written.
        ("[::ffff:192.0.2.1]:80", "192.0.2.1", 80, "192.0.2.1:80"),
        ("[::FFFF:c000:201]:80", "192.0.2.1", 80, "192.0.2.1:80"),
        ("[::ffff:0.0.0.0]:21", "0.0.0.0", 21, "0.0.0.0:21"),
    ]

    @Test("accepts", arguments: accepted)
    func accepts(text: String, host: String, port: UInt16, canonical: String) throws {
        let parsed = try SocketAddress.parse(text).get()
        #expect(parsed == SocketAddress(ip: ip(host), port: port))
        #expect(parsed.description == canonical)
        #expect(SocketAddress(canonical) == parsed)
    }

    static let rejected: [(String, String)] = [
        ("", "address is empty"),
        ("1.2.3.4:0", "port 0 is not allowed"),
        ("[::1]:0", "port 0 is not allowed"),
        ("1.2.3.4:65536", "port must be in 1...65535"),
        ("1.2.3.4:99999999999999999999999", "port must be in 1...65535"),
        ("1.2.3.4:+80", "port must be a decimal number"),
        ("1.2.3.4:-80", "port must be a decimal number"),
        ("1.2.3.4:0x50", "port must be a decimal number"),
        ("1.2.3.4:80a", "port must be a decimal number"),
        ("1.2.3.4:8 0", "port must be a decimal number"),
        ("1.2.3.4:080", "port must not have leading zeros"),
        ("1.2.3.4", "missing port"),
        ("1.2.3.4:", "missing port"),
        ("[::1]", "missing port"),
        ("[::1]:", "missing port"),
        ("2001:db8::1", "IPv6 address must be in brackets"),
        ("2001:db8::1:80", "IPv6 address must be in brackets"),
        ("::1", "IPv6 address must be in brackets"),
        ("::", "IPv6 address must be in brackets"),
        ("fe80::1:80:80:1:2:3:4", "IPv6 address must be in brackets"),
        ("[1.2.3.4]:80", "IPv4 address must not be in brackets"),
        ("[::1:80", "missing closing bracket"),
        ("[::1]80", "not an IPv4 or IPv6 address"),
        ("[::1]:80]", "port must be a decimal number"),
        ("[[::1]]:80", "brackets are only allowed around an IPv6 address with a port"),
        ("[fe80::1%eth0]:80", "zone ids (%...) are not allowed"),
        ("[]:80", "address is empty"),
        (":80", "address is empty"),
        ("010.0.0.1:80", "leading zeros are not allowed in IPv4 octets"),
        ("256.0.0.1:80", "IPv4 octet must be in 0...255"),
        ("host:80", "not an IPv4 or IPv6 address"),
        ("1.2.3.4:80:90", "not an IPv4 or IPv6 address"),
        (" 1.2.3.4:80", "address must not have surrounding spaces"),
        ("1.2.3.4:80 ", "address must not have surrounding spaces"),
    ]

    @Test("rejects, with the reason", arguments: rejected)
    func rejects(text: String, reason: String) {
        #expect(SocketAddress.parse(text) == .failure(AddressParseError(reason: reason)))
        #expect(SocketAddress(text) == nil)
    }

    @Test("the wildcard is the unspecified address with any port")
    func wildcard() throws {
        #expect(try SocketAddress.parse("0.0.0.0:40000").get().isWildcard)
        #expect(try SocketAddress.parse("[::]:40000").get().isWildcard)
        #expect(try !SocketAddress.parse("0.0.0.1:40000").get().isWildcard)
        #expect(try !SocketAddress.parse("[::1]:40000").get().isWildcard)
    }
}
