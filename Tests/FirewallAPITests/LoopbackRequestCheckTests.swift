import Testing

@testable import FirewallAPI

/// The tokenless mode's guard against web pages: which `Host` and `Origin` values name the loopback.
@Suite("Loopback request check")
struct LoopbackRequestCheckTests {
    @Test("Host values", arguments: [
        ("localhost", true), ("LocalHost:80", true), ("localhost:65535", true),
        ("127.0.0.1", true), ("127.0.0.1:8080", true), ("127.255.255.254:1", true),
        ("[::1]", true), ("[::1]:8080", true), ("[0:0:0:0:0:0:0:1]:8080", true), ("[::ffff:127.0.0.1]:8080", true),
        ("", false), ("localhost.", false), ("localhost:", false), ("localhost:123456", false), ("localhost:80x", false),
        ("sub.localhost", false), ("localhost.attacker.example", false), ("attacker.example:8080", false),
        ("128.0.0.1", false), ("126.255.255.255:80", false), ("0.0.0.0:8080", false), ("10.0.0.1", false),
        ("127.0.0.1.nip.io", false), ("0x7f.0.0.1", false), ("2130706433", false), ("127.1", false),
        ("[::2]:8080", false), ("[::]:8080", false), ("::1", false), ("[::1", false), ("[::1]x", false),
        ("[127.0.0.1]:80", false), ("[fe80::1%lo]:80", false),
    ])
    func hosts(host: String, loopback: Bool) {
        #expect(LoopbackRequestCheck.isLoopbackAuthority(host) == loopback)
        #expect((LoopbackRequestCheck.refusal(host: host, origin: nil, fetchSite: nil) == nil) == loopback)
    }

    @Test("Origin values", arguments: [
        ("http://localhost:8080", true), ("HTTPS://127.0.0.1", true), ("http://[::1]:3000", true),
        ("null", false), ("http://attacker.example", false), ("file://", false), ("http://localhost.attacker.example", false),
        ("ws://localhost:8080", false), ("http://10.0.0.1:8080", false), ("", false),
    ])
    func origins(origin: String, loopback: Bool) {
        #expect(LoopbackRequestCheck.isLoopbackOrigin(origin) == loopback)
        #expect((LoopbackRequestCheck.refusal(host: "localhost:8080", origin: origin, fetchSite: nil) == nil) == loopback)
    }

    @Test("Sec-Fetch-Site: only cross-site is refused", arguments: [
        ("cross-site", false), ("Cross-Site", false), ("same-site", true), ("same-origin", true), ("none", true),
    ])
    func fetchSite(value: String, served: Bool) {
        #expect((LoopbackRequestCheck.refusal(host: "127.0.0.1:8080", origin: nil, fetchSite: value) == nil) == served)
    }
}
