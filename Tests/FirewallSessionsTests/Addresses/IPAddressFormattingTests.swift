import Testing

@testable import FirewallSessions

@Suite("IPAddress formatting")
struct IPAddressFormattingTests {
    /// Input text and its canonical form. Most come from RFC 5952 sections
    /// 4 and 5.
    static let canonical: [(String, String)] = [
        // IPv4.
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("198.51.100.7", "198.51.100.7"),
        // RFC 5952 4.1: no leading zeros.
        ("2001:0db8::0001", "2001:db8::1"),
        ("2001:db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        // 4.2.1: the longest run is shortened as far as possible.
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("2001:db8::0:1", "2001:db8::1"),
        // 4.2.2: a single 0 group is not compressed.
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        // 4.2.3: the longest run wins; on a tie, the first.
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("0:0:0:1:0:0:0:0", "0:0:0:1::"),
        ("0:0:0:0:1:0:0:0", "::1:0:0:0"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"),
        // 4.3: lower case.
        ("2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:FFFF", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"),
        // The whole space, its ends and neighbours.
        ("0:0:0:0:0:0:0:0", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("1:0:0:0:0:0:0:1", "1::1"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("0:0:0:0:ffff:ffff:ffff:ffff", "::ffff:ffff:ffff:ffff"),
        ("0:0:0:1:0:0:0:0", "0:0:0:1::"),
        // IPv4-mapped addresses are read as IPv4, so they are written as IPv4.
        ("::ffff:c000:0201", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("::ffff:0:0", "0.0.0.0"),
        ("::ffff:ffff:ffff", "255.255.255.255"),
        // Not mapped: deprecated IPv4-compatible, other prefixes, NAT64.
        ("::1.2.3.4", "::102:304"),
        ("::fffe:1.2.3.4", "::fffe:102:304"),
        ("1::ffff:1.2.3.4", "1::ffff:102:304"),
        ("::1:ffff:1.2.3.4", "::1:ffff:102:304"),
        ("64:ff9b::198.51.100.7", "64:ff9b::c633:6407"),
    ]

    @Test("writes the canonical form", arguments: canonical)
    func canonicalForm(text: String, expected: String) throws {
        let parsed = try #require(IPAddress(text))
        #expect(parsed.description == expected)
        // The canonical text reads back as the same address.
        #expect(IPAddress(expected) == parsed)
    }

    @Test("round-trips random addresses of both families")
    func roundTrip() {
        var random = SplitMix64(seed: 5952)
        for _ in 0..<5_000 {
            let address: IPAddress
            if random.chance(1, in: 3) {
                address = IPAddress(v4: UInt32(truncatingIfNeeded: random.next()))
            } else {
                // Many zero groups, so that compression is exercised.
                var words: [UInt64] = [0, 0]
                for group in 0..<8 where random.chance(1, in: 2) {
                    let value = random.chance(1, in: 2) ? random.next() & 0xffff : random.next() & 0xf
                    words[group / 4] |= value << (16 * (3 - group % 4))
                }
                address = IPAddress(v6: words[0], words[1])
            }
            let text = address.description
            #expect(IPAddress(text) == address, "\(text)")
            #expect(text == text.lowercased())
        }
    }
}
