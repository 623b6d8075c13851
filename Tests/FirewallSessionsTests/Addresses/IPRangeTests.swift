import Testing

@testable import FirewallSessions

@Suite("IPRange")
struct IPRangeTests {
    /// Text, first and last address, normalised text.
    static let accepted: [(String, String, String, String)] = [
        ("198.51.100.7", "198.51.100.7", "198.51.100.7", "198.51.100.7"),
        ("198.51.100.0/24", "198.51.100.0", "198.51.100.255", "198.51.100.0/24"),
        ("198.51.100.7/32", "198.51.100.7", "198.51.100.7", "198.51.100.7"),
        ("0.0.0.0/0", "0.0.0.0", "255.255.255.255", "0.0.0.0/0"),
        ("128.0.0.0/1", "128.0.0.0", "255.255.255.255", "128.0.0.0/1"),
        ("255.255.255.254/31", "255.255.255.254", "255.255.255.255", "255.255.255.254/31"),
        ("192.0.2.7-192.0.2.9", "192.0.2.7", "192.0.2.9", "192.0.2.7-192.0.2.9"),
        ("192.0.2.7-192.0.2.7", "192.0.2.7", "192.0.2.7", "192.0.2.7"),
        ("10.0.0.0-10.0.0.255", "10.0.0.0", "10.0.0.255", "10.0.0.0/24"),
        ("10.0.0.0-10.0.1.255", "10.0.0.0", "10.0.1.255", "10.0.0.0/23"),
        ("10.0.1.0-10.0.2.255", "10.0.1.0", "10.0.2.255", "10.0.1.0-10.0.2.255"),
        ("10.0.0.0-10.0.0.254", "10.0.0.0", "10.0.0.254", "10.0.0.0-10.0.0.254"),
        ("10.0.0.1-10.0.0.255", "10.0.0.1", "10.0.0.255", "10.0.0.1-10.0.0.255"),
        ("0.0.0.0-255.255.255.255", "0.0.0.0", "255.255.255.255", "0.0.0.0/0"),
        ("0.0.0.1-255.255.255.255", "0.0.0.1", "255.255.255.255", "0.0.0.1-255.255.255.255"),
        ("0.0.0.0-255.255.255.254", "0.0.0.0", "255.255.255.254", "0.0.0.0-255.255.255.254"),
        ("2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32"),
        ("2001:DB8:0::/48", "2001:db8::", "2001:db8:0:ffff:ffff:ffff:ffff:ffff", "2001:db8::/48"),
        ("::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0"),
        ("::/128", "::", "::", "::"),
        ("::1/128", "::1", "::1", "::1"),
        ("8000::/1", "8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1"),
        ("::/64", "::", "::ffff:ffff:ffff:ffff", "::/64"),
        ("0:0:0:1::/64", "0:0:0:1::", "::1:ffff:ffff:ffff:ffff", "0:0:0:1::/64"),
        ("::/63", "::", "0:0:0:1:ffff:ffff:ffff:ffff", "::/63"),
        // Inside the IPv4-mapped block: the IPv4 range it names.
        ("::ffff:0.0.0.0/96", "0.0.0.0", "255.255.255.255", "0.0.0.0/0"),
        ("::ffff:10.0.0.0/104", "10.0.0.0", "10.255.255.255", "10.0.0.0/8"),
        ("::ffff:192.0.2.7/128", "192.0.2.7", "192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7", "192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7-::ffff:192.0.2.9", "192.0.2.7", "192.0.2.9", "192.0.2.7-192.0.2.9"),
        ("192.0.2.7-::ffff:192.0.2.9", "192.0.2.7", "192.0.2.9", "192.0.2.7-192.0.2.9"),
        ("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0"),
        ("::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
         "::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("2001:db8::1-2001:db8::3", "2001:db8::1", "2001:db8::3", "2001:db8::1-2001:db8::3"),
        ("2001:db8::-2001:db8::ffff", "2001:db8::", "2001:db8::ffff", "2001:db8::/112"),
    ]

    @Test("parses and normalises", arguments: accepted)
    func accepts(text: String, lower: String, upper: String, normalised: String) throws {
        let parsed = try IPRange.parse(text).get()
        #expect(parsed.lower == ip(lower))
        #expect(parsed.upper == ip(upper))
        #expect(parsed.description == normalised)
        // The normalised text reads back as the same range.
        #expect(IPRange(normalised) == parsed)
    }

    static let rejected: [(String, String)] = [
        ("", "range is empty"),
        ("198.51.100.7/24", "host bits set; did you mean 198.51.100.0/24?"),
        ("10.0.0.1/0", "host bits set; did you mean 0.0.0.0/0?"),
        ("255.255.255.255/31", "host bits set; did you mean 255.255.255.254/31?"),
        ("2001:db8::1/32", "host bits set; did you mean 2001:db8::/32?"),
        ("::1/0", "host bits set; did you mean ::/0?"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127", "host bits set; did you mean ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127?"),
        ("198.51.100.0/33", "IPv4 prefix length must be in 0...32"),
        ("2001:db8::/129", "IPv6 prefix length must be in 0...128"),
        ("198.51.100.0/99999999999999999999", "IPv4 prefix length must be in 0...32"),
        ("198.51.100.0/024", "prefix length must not have leading zeros"),
        ("198.51.100.0/", "prefix length must be a decimal number"),
        ("198.51.100.0/+24", "prefix length must be a decimal number"),
        ("198.51.100.0/-1", "not an IPv4 or IPv6 address"),
        ("198.51.100.0/24/24", "prefix length must be a decimal number"),
        ("198.51.100.0/255.255.255.0", "prefix length must be a decimal number"),
        ("/24", "address is empty"),
        ("192.0.2.9-192.0.2.7", "range start must not be after its end"),
        ("2001:db8::2-2001:db8::1", "range start must not be after its end"),
        ("192.0.2.7-2001:db8::1", "both ends of a range must be of the same family"),
        ("::-0.0.0.0", "both ends of a range must be of the same family"),
        ("192.0.2.7 - 192.0.2.9", "address must not have surrounding spaces"),
        ("192.0.2.7-", "address is empty"),
        ("-192.0.2.7", "address is empty"),
        ("192.0.2.7-192.0.2.8-192.0.2.9", "not an IPv4 or IPv6 address"),
        ("192.0.2.07-192.0.2.9", "leading zeros are not allowed in IPv4 octets"),
        ("192.0.2.7-192.0.2.256", "IPv4 octet must be in 0...255"),
        ("10.0.0.0/8-10.0.0.1", "not an IPv4 or IPv6 address"),
        ("fe80::%eth0/64", "zone ids (%...) are not allowed"),
        ("[2001:db8::]/32", "brackets are only allowed around an IPv6 address with a port"),
        (" 10.0.0.0/8", "address must not have surrounding spaces"),
        ("10.0.0.0/8 ", "address must not have surrounding spaces"),
        ("any", "not an IPv4 or IPv6 address"),
    ]

    @Test("rejects, with the reason", arguments: rejected)
    func rejects(text: String, reason: String) {
        #expect(IPRange.parse(text) == .failure(AddressParseError(reason: reason)))
        #expect(IPRange(text) == nil)
    }

    @Test("builds only ordered, single-family ranges")
    func initialiser() {
        #expect(IPRange(lower: ip("10.0.0.1"), upper: ip("10.0.0.0")) == nil)
        #expect(IPRange(lower: ip("255.255.255.255"), upper: ip("::")) == nil)
        #expect(IPRange(lower: ip("::"), upper: ip("255.255.255.255")) == nil)
        #expect(IPRange(lower: ip("10.0.0.0"), upper: ip("10.0.0.0")) == IPRange(single: ip("10.0.0.0")))
        #expect(IPRange(lower: ip("::"), upper: ip("::1"))?.description == "::/127")
    }

    static let networks: [(String, Int, String?)] = [
        ("10.0.0.0", 8, "10.0.0.0/8"),
        ("10.0.0.0", 0, nil),
        ("0.0.0.0", 0, "0.0.0.0/0"),
        ("0.0.0.0", 33, nil),
        ("0.0.0.0", -1, nil),
        ("10.0.0.1", 32, "10.0.0.1"),
        ("::", 0, "::/0"),
        ("::", 128, "::"),
        ("::", 129, nil),
        ("2001:db8::", 31, "2001:db8::/31"),
        ("2001:db8::", 28, nil),
        ("2001:db8::", 29, "2001:db8::/29"),
    ]

    @Test("builds CIDR blocks from a network and a prefix length", arguments: networks)
    func network(network: String, prefixLength: Int, expected: String?) {
        #expect(IPRange(network: ip(network), prefixLength: prefixLength)?.description == expected)
    }

    @Test("knows its prefix length only when it is one block")
    func prefixLength() {
        #expect(ipRange("10.0.0.0/8").prefixLength == 8)
        #expect(ipRange("10.0.0.7").prefixLength == 32)
        #expect(ipRange("::7").prefixLength == 128)
        #expect(ipRange("::/0").prefixLength == 0)
        #expect(ipRange("0.0.0.0/0").prefixLength == 0)
        #expect(ipRange("10.0.0.1-10.0.0.2").prefixLength == nil)
        #expect(ipRange("10.0.0.0-10.0.0.2").prefixLength == nil)
        // Every power-of-two-sized, aligned span is a block; no other is.
        for size in 1...64 {
            for start in 0..<64 {
                let candidate = ipRange("10.0.0.\(start)-10.0.0.\(min(255, start + size - 1))")
                let isBlock = size.nonzeroBitCount == 1 && start % size == 0
                #expect((candidate.prefixLength != nil) == isBlock, "\(candidate)")
            }
        }
    }

    @Test("an IPv6 range that only partly covers the IPv4-mapped block stays IPv6 and reads back the same")
    func partlyMapped() throws {
        // An exclusion leaves an end at the block's edge; the stored text must give the same range.
        var set = ipRangeSet("::/0")
        set.exclude(ipRange("::-::fffe:ffff:ffff"))
        let left = try #require(set.ranges.first)
        #expect(left.lower == IPAddress(v6: 0, 0x0000_ffff_0000_0000))
        #expect(left.description == "::ffff:0.0.0.0-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        #expect(IPRange(left.description) == left)
        let written = ipRange("::-::ffff:10.0.0.5")
        #expect(written.family == .v6)
        #expect(written.upper == IPAddress(v6: 0, 0x0000_ffff_0a00_0005))
        #expect(IPRange(written.description) == written)
        // It holds IPv6 addresses only: the IPv4 ones, however written, are IPv4.
        #expect(!written.contains(ip("::ffff:10.0.0.1")))
        #expect(written.contains(ip("::fffe:ffff:ffff")))
        #expect(IPRange.parse("::1-::ffff:10.0.0.5").map(\.family) == .success(.v6))
        #expect(IPRange.parse("10.0.0.1-::1") == .failure(AddressParseError(reason: "both ends of a range must be of the same family")))
    }

    @Test("contains its ends and nothing outside, nor the other family")
    func contains() {
        let block = ipRange("10.0.0.0/24")
        #expect(block.contains(ip("10.0.0.0")))
        #expect(block.contains(ip("10.0.0.255")))
        #expect(!block.contains(ip("9.255.255.255")))
        #expect(!block.contains(ip("10.0.1.0")))
        #expect(block.contains(ip("::ffff:10.0.0.1")))
        #expect(!block.contains(ip("::a00:1")))
        let everything = ipRange("::/0")
        #expect(everything.contains(ip("::")))
        #expect(everything.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")))
        #expect(!everything.contains(ip("0.0.0.0")))
    }
}
