import Testing

@testable import FirewallSessions

@Suite("IPAddress parsing")
struct IPAddressParsingTests {
    static let accepted: [(String, IPAddress)] = [
        ("0.0.0.0", IPAddress(v4: 0)),
        ("255.255.255.255", IPAddress(v4: .max)),
        ("198.51.100.7", IPAddress(v4: 0xC633_6407)),
        ("10.0.0.1", IPAddress(v4: 0x0A00_0001)),
        ("1.0.0.0", IPAddress(v4: 0x0100_0000)),
        ("::", IPAddress(v6: 0, 0)),
        ("::1", IPAddress(v6: 0, 1)),
        ("1::", IPAddress(v6: 0x0001_0000_0000_0000, 0)),
        ("2001:db8::1", IPAddress(v6: 0x2001_0db8_0000_0000, 1)),
        ("2001:DB8::1", IPAddress(v6: 0x2001_0db8_0000_0000, 1)),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", IPAddress(v6: 0x2001_0db8_0000_0000, 1)),
        ("2001:db8:0:0:0:0:0:1", IPAddress(v6: 0x2001_0db8_0000_0000, 1)),
        ("1:2:3:4:5:6:7:8", IPAddress(v6: 0x0001_0002_0003_0004, 0x0005_0006_0007_0008)),
        ("1:2:3:4:5:6:7::", IPAddress(v6: 0x0001_0002_0003_0004, 0x0005_0006_0007_0000)),
        ("::2:3:4:5:6:7:8", IPAddress(v6: 0x0000_0002_0003_0004, 0x0005_0006_0007_0008)),
        ("1:2:3::6:7:8", IPAddress(v6: 0x0001_0002_0003_0000, 0x0000_0006_0007_0008)),
        // IPv4-mapped: the IPv4 address, however written.
        ("::ffff:192.0.2.1", IPAddress(v4: 0xC000_0201)),
        ("::ffff:c000:201", IPAddress(v4: 0xC000_0201)),
        ("::FFFF:192.0.2.1", IPAddress(v4: 0xC000_0201)),
        ("0:0:0:0:0:ffff:c000:0201", IPAddress(v4: 0xC000_0201)),
        ("::ffff:0.0.0.0", IPAddress(v4: 0)),
        ("::ffff:ffff:ffff", IPAddress(v4: .max)),
        // Next to the mapped block: IPv6.
        ("::fffe:ffff:ffff", IPAddress(v6: 0, 0x0000_fffe_ffff_ffff)),
        ("::1:0:0:0", IPAddress(v6: 0, 0x0001_0000_0000_0000)),
        ("::1.2.3.4", IPAddress(v6: 0, 0x0102_0304)),
        ("1:2:3:4:5:6:1.2.3.4", IPAddress(v6: 0x0001_0002_0003_0004, 0x0005_0006_0102_0304)),
        ("64:ff9b::198.51.100.7", IPAddress(v6: 0x0064_ff9b_0000_0000, 0xC633_6407)),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", IPAddress(v6: .max, .max)),
        ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", IPAddress(v6: .max, .max)),
        ("fe80::", IPAddress(v6: 0xfe80_0000_0000_0000, 0)),
    ]

    @Test("accepts", arguments: accepted)
    func accepts(text: String, expected: IPAddress) {
        #expect(IPAddress(text) == expected)
        #expect(IPAddress.parse(text) == .success(expected))
    }

    static let rejected: [(String, String)] = [
        ("", "address is empty"),
        (" 1.2.3.4", "address must not have surrounding spaces"),
        ("1.2.3.4 ", "address must not have surrounding spaces"),
        ("1.2.3.4\n", "address must not have surrounding spaces"),
        ("\t::1", "address must not have surrounding spaces"),
        ("010.0.0.1", "leading zeros are not allowed in IPv4 octets"),
        ("1.2.3.04", "leading zeros are not allowed in IPv4 octets"),
        ("00.0.0.0", "leading zeros are not allowed in IPv4 octets"),
        ("256.0.0.1", "IPv4 octet must be in 0...255"),
        ("1.2.3.1000", "IPv4 octet must be in 0...255"),
        ("99999999999999999999.1.1.1", "IPv4 octet must be in 0...255"),
        ("1.2.3", "not an IPv4 or IPv6 address"),
        ("1.2.3.4.5", "not an IPv4 or IPv6 address"),
        ("1..2.3", "not an IPv4 or IPv6 address"),
        ("1.2.3.4.", "not an IPv4 or IPv6 address"),
        (".1.2.3.4", "not an IPv4 or IPv6 address"),
        ("1.2.3.-4", "not an IPv4 or IPv6 address"),
        ("+1.2.3.4", "not an IPv4 or IPv6 address"),
        ("0x1.2.3.4", "not an IPv4 or IPv6 address"),
        ("1 .2.3.4", "not an IPv4 or IPv6 address"),
        ("16909060", "not an IPv4 or IPv6 address"),
        ("1.2.3.4/24", "not an IPv4 or IPv6 address"),
        ("1.2.3.4:80", "not an IPv4 or IPv6 address"),
        ("localhost", "not an IPv4 or IPv6 address"),
        ("١.٢.٣.٤", "not an IPv4 or IPv6 address"),
        ("1.2.3.4\u{301}", "not an IPv4 or IPv6 address"),
        ("fe80::1%eth0", "zone ids (%...) are not allowed"),
        ("fe80::1%1", "zone ids (%...) are not allowed"),
        ("[2001:db8::1]", "brackets are only allowed around an IPv6 address with a port"),
        ("[::1", "brackets are only allowed around an IPv6 address with a port"),
        ("2001:db8::1::2", "not an IPv4 or IPv6 address"),
        (":::", "not an IPv4 or IPv6 address"),
        ("1:::2", "not an IPv4 or IPv6 address"),
        (":", "not an IPv4 or IPv6 address"),
        (":1", "not an IPv4 or IPv6 address"),
        ("1:", "not an IPv4 or IPv6 address"),
        (":1::", "not an IPv4 or IPv6 address"),
        ("::1:", "not an IPv4 or IPv6 address"),
        ("1:2:3:4:5:6:7", "not an IPv4 or IPv6 address"),
        ("1:2:3:4:5:6:7:8:9", "not an IPv4 or IPv6 address"),
        ("1:2:3:4:5:6:7:8::", "not an IPv4 or IPv6 address"),
        ("::1:2:3:4:5:6:7:8", "not an IPv4 or IPv6 address"),
        ("1::2:3:4:5:6:7:8", "not an IPv4 or IPv6 address"),
        ("12345::", "not an IPv4 or IPv6 address"),
        ("g::1", "not an IPv4 or IPv6 address"),
        ("::ffff:1.2.3", "not an IPv4 or IPv6 address"),
        ("::ffff:1.2.3.256", "IPv4 octet must be in 0...255"),
        ("::ffff:01.2.3.4", "leading zeros are not allowed in IPv4 octets"),
        ("1.2.3.4::", "not an IPv4 or IPv6 address"),
        ("::1.2.3.4:1", "not an IPv4 or IPv6 address"),
        ("1:2:3:4:5:6:7:1.2.3.4", "not an IPv4 or IPv6 address"),
        ("1:2:3:4:5:6:7:8:1.2.3.4", "not an IPv4 or IPv6 address"),
        ("::ffff:1.2.3.4.5", "not an IPv4 or IPv6 address"),
        ("2001:db8::/32", "not an IPv4 or IPv6 address"),
        (String(repeating: "1", count: 100), "not an IPv4 or IPv6 address"),
    ]

    @Test("rejects, with the reason", arguments: rejected)
    func rejects(text: String, reason: String) {
        #expect(IPAddress(text) == nil)
        #expect(IPAddress.parse(text) == .failure(AddressParseError(reason: reason)))
    }

    @Test("reads substrings as well as strings")
    func substrings() {
        let text = "x198.51.100.7y"
        let inner = text.dropFirst().dropLast()
        #expect(IPAddress(inner) == IPAddress(v4: 0xC633_6407))
    }

    @Test("an IPv4-mapped address is the IPv4 address it names: one address, one identity")
    func mappedIsV4() {
        let mapped = ip("::ffff:192.0.2.1")
        #expect(mapped.family == .v4)
        #expect(mapped == ip("192.0.2.1"))
        #expect(mapped.hashValue == ip("192.0.2.1").hashValue)
        #expect(mapped.v4Value == 0xC000_0201)
        #expect(!mapped.isIPv4Mapped)
        // A value built as IPv6 is what it is, until unmapped.
        let built = IPAddress(v6: 0, 0x0000_ffff_c000_0201)
        #expect(built.isIPv4Mapped && built.family == .v6)
        #expect(built.unmapped == ip("192.0.2.1"))
        #expect(ip("2001:db8::1").unmapped == ip("2001:db8::1"))
        #expect(!IPAddress(v6: 0, 0x0000_fffe_c000_0201).isIPv4Mapped)
        #expect(!IPAddress(v6: 1, 0x0000_ffff_c000_0201).isIPv4Mapped)
    }

    @Test("the unspecified address is the wildcard, in both families")
    func unspecified() {
        #expect(ip("0.0.0.0").isUnspecified)
        #expect(ip("::").isUnspecified)
        #expect(!ip("0.0.0.1").isUnspecified)
        #expect(!ip("::1").isUnspecified)
        #expect(!ip("1::").isUnspecified)
    }

    @Test("orders IPv4 before IPv6, then numerically")
    func ordering() {
        let sorted = [
            "0.0.0.0", "0.0.0.1", "9.255.255.255", "10.0.0.0", "255.255.255.255",
            "::", "::1", "::fffe:ffff:ffff", "0:0:0:1::", "1::", "2001:db8::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ].map(ip)
        for (index, lower) in sorted.enumerated() {
            for higher in sorted[(index + 1)...] {
                #expect(lower < higher, "\(lower) < \(higher)")
                #expect(!(higher < lower), "!(\(higher) < \(lower))")
            }
        }
        #expect(sorted.reversed().sorted() == sorted)
    }

    @Test("stays compact: no heap, at most 24 bytes")
    func layout() {
        #expect(MemoryLayout<IPAddress>.size <= 24)
        #expect(MemoryLayout<IPAddress>.size >= 17)
        #expect(_isPOD(IPAddress.self))
    }

    @Test("hashes equal addresses equally and keeps the families apart")
    func hashing() {
        let set: Set<IPAddress> = [ip("0.0.0.1"), ip("::1"), ip("0:0::1"), ip("::0.0.0.1")]
        #expect(set.count == 2)
    }
}
