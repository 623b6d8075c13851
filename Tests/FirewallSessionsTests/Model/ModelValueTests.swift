import Testing

@testable import FirewallSessions

/// The small value types of the model: ids, timestamps, flags, GUIDs, port ranges.
@Suite("Model values")
struct ModelValueTests {
    @Test(
        "bind ids are b-<number> without sign or leading zero",
        arguments: [
            ("b-1", UInt64(1) as UInt64?), ("b-42", 42), ("b-18446744073709551615", .max),
            ("b-0", nil), ("b-01", nil), ("b-", nil), ("b", nil), ("", nil), ("B-1", nil), ("b_1", nil), ("b-1x", nil),
            ("b- 1", nil), ("b--5", nil), ("b-18446744073709551616", nil), ("s-1", nil),
        ])
    func bindIDs(text: String, value: UInt64?) {
        #expect(BindID(text)?.rawValue == value)
        if let value { #expect(BindID(rawValue: value).description == text) }
    }

    /// An id must have one spelling: `b-+5` would name `b-5` under a second path.
    @Test("a bind id with a plus sign is not an id", arguments: ["b-+5", "b-+0", "b-+18446744073709551615"])
    func bindIDWithPlusSign(text: String) {
        #expect(BindID(text) == nil)
    }

    @Test(
        "session ids are [A-Za-z0-9._-]{1,64}",
        arguments: [
            ("ws17-1", true), ("A.b_c-9", true), (String(repeating: "x", count: 64), true),
            ("", false), (String(repeating: "x", count: 65), false), ("a b", false), ("a/b", false), ("é", false),
            ("a:b", false),
        ])
    func sessionIDs(id: String, valid: Bool) {
        #expect(Session.isValidID(id) == valid)
    }

    @Test(
        "timestamps render as RFC 3339 UTC with milliseconds",
        arguments: [
            (0.0, "1970-01-01T00:00:00.000Z"),
            (1_800_000_000, "2027-01-15T08:00:00.000Z"),
            (1_800_000_000.5, "2027-01-15T08:00:00.500Z"),
            (951_782_400, "2000-02-29T00:00:00.000Z"),
            (4_102_444_799.25, "2099-12-31T23:59:59.250Z"),
            (-0.5, "1969-12-31T23:59:59.500Z"),
        ])
    func timestamps(seconds: Double, text: String) {
        #expect(Timestamp(seconds: seconds).rfc3339 == text)
        #expect(Timestamp(seconds: seconds).description == text)
    }

    @Test("timestamps order and move")
    func timestampArithmetic() {
        #expect(t0.adding(1.5).seconds == 1_800_000_001.5)
        #expect(t0 < t0.adding(0.001))
        #expect(t0.adding(-1) < t0)
    }

    @Test("flags have wire names, in a fixed order")
    func flags() {
        #expect(BindFlags.named("bidirectional") == .bidirectional)
        #expect(BindFlags.named("increase-receive-buffer") == .increaseReceiveBuffer)
        #expect(BindFlags.named("Bidirectional") == nil)
        #expect(BindFlags.named("") == nil)
        #expect(([.increaseReceiveBuffer, .bidirectional] as BindFlags).names == ["bidirectional", "increase-receive-buffer"])
        #expect(BindFlags().names == [])
        #expect(BindFlags.increasedReceiveBufferBytes == 65_536)
    }

    @Test(
        "protocol GUIDs parse with any case and optional braces and print lower-case without",
        arguments: [
            "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21", "6B1E1A3C-2F9E-4C55-9A50-6D9B0B1F0C21",
            "{6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21}", "{6B1E1A3C-2f9e-4C55-9a50-6D9B0B1F0C21}",
        ])
    func guids(text: String) {
        #expect(ProtocolGUID(text) == sipGUID)
        #expect(ProtocolGUID(text)?.description == "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21")
    }

    @Test(
        "malformed protocol GUIDs are refused",
        arguments: [
            "", "6b1e1a3c2f9e4c559a506d9b0b1f0c21", "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c2", "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c211",
            "{6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21", "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21}", "6b1e1a3g-2f9e-4c55-9a50-6d9b0b1f0c21",
            "6b1e1a3c-2f9e-4c55-9a50_6d9b0b1f0c21", "(6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21)",
        ])
    func badGUIDs(text: String) {
        #expect(ProtocolGUID(text) == nil)
    }

    @Test("random GUIDs are version 4, RFC 4122 variant")
    func randomGUIDs() {
        let value = ProtocolGUID.random()
        let text = Array(value.description)
        #expect(text[14] == "4")
        #expect("89ab".contains(text[19]))
        #expect(ProtocolGUID(value.description) == value)
    }

    @Test(
        "port ranges",
        arguments: [
            ("21", (21 as UInt16)...21 as ClosedRange<UInt16>?), ("1024-65535", 1024...65535), ("1-1", 1...1),
            ("0", nil), ("65536", nil), ("10-9", nil), ("-1", nil), ("1-", nil), ("+21", nil), ("1-2-3", nil), ("", nil),
        ])
    func ports(text: String, ports: ClosedRange<UInt16>?) {
        #expect(PrimaryConnection.parsePorts(text) == ports)
        if let ports, text.first != "0" {
            #expect(PrimaryConnection(transport: .tcp, ports: ports, direction: .outbound).portsText == (ports.lowerBound == ports.upperBound ? "\(ports.lowerBound)" : text))
        }
    }
}
