import FirewallSessions

/// The fixed part of fwsessiond's nftables table: its sets, counters and chains. Per-bind state
/// lives only in set elements, so a change to a bind is a few element updates in one
/// transaction; there are no per-bind rules or chains.
///
/// Input: a packet to a bound (address, protocol, port) is counted in `bound*`, then accepted
/// when the bind is open to every peer (`open*`) or to this peer (`peer*`, `range*`), else
/// counted in `drop*` and dropped. Every packet is checked, so a revocation also stops an
/// established connection. Output (UDP only): a packet from a bound address and port is accepted
/// only when the bind is bidirectional, the peer sent to it recently (`recent*`, filled on accept
/// with a timeout of the window) and the filter still permits the peer. Accepted packets get the
/// configured mark, so a host ruleset with a drop policy can let them through. Packets to
/// addresses and ports that hold no bind are not touched.
struct TableDefinition: Sendable {
    let table: String
    let mark: UInt32
    let recentTimeoutSeconds: Int
    let maxRecentPeers: Int

    /// The chains, each with its rules; rule counts are what the health check expects.
    var chains: [(name: String, header: String?, rules: [String])] {
        var chains: [(String, String?, [String])] = [
            ("input", "type filter hook input priority filter - 10; policy accept;", ["meta l4proto { tcp, udp } jump binds_in"]),
            ("output", "type filter hook output priority filter - 10; policy accept;", ["meta l4proto udp jump binds_out"]),
            ("binds_in", nil, SetGroup.allCases.map { group in
                "\(guardFor(group))\(inKey(group)) @\(group.set(.bound)) goto in\(group.suffix)"
            }),
            ("binds_out", nil, SetGroup.allCases.map { group in
                "\(guardFor(group))\(outKey(group)) @\(group.set(.bound)) goto out\(group.suffix)"
            }),
            ("accept_out", nil, [accept]),
        ]
        for group in SetGroup.allCases {
            let s = group.suffix
            let peerIn = "\(group.payload) saddr"
            let peerOut = "\(group.payload) daddr"
            chains.append(("in\(s)", nil, [
                "\(inKey(group)) @\(group.set(.open)) goto accept_in\(s)",
                "\(inKey(group)) . \(peerIn) @\(group.set(.peer)) goto accept_in\(s)",
                "\(inKey(group)) . \(peerIn) @\(group.set(.range)) goto accept_in\(s)",
                "\(inKey(group)) @\(group.set(.drop)) \(discard)",
                discard,
            ]))
            chains.append(("accept_in\(s)", nil, [
                "\(inKey(group)) @\(group.set(.bidir)) update @\(group.set(.recent)) { \(recentIn(group)) }",
                accept,
            ]))
            chains.append(("out\(s)", nil, [
                "\(outKey(group)) @\(group.set(.bidir)) \(recentOut(group)) @\(group.set(.recent)) goto outpeer\(s)",
                "\(outKey(group)) @\(group.set(.drop)) \(discard)",
                discard,
            ]))
            chains.append(("outpeer\(s)", nil, [
                "\(outKey(group)) @\(group.set(.open)) goto accept_out",
                "\(outKey(group)) . \(peerOut) @\(group.set(.peer)) goto accept_out",
                "\(outKey(group)) . \(peerOut) @\(group.set(.range)) goto accept_out",
                "\(outKey(group)) @\(group.set(.drop)) \(discard)",
                discard,
            ]))
        }
        return chains
    }

    private var accept: String {
        let marking = mark == 0 ? "" : "meta mark set meta mark | 0x\(String(mark, radix: 16)) "
        return "\(marking)counter name \"accepted\" accept"
    }

    private var discard: String { "counter name \"discarded\" drop" }

    /// A wildcard key names no address, so the family must be checked on its own.
    private func guardFor(_ group: SetGroup) -> String { group.wildcard ? "meta nfproto \(group.nfproto) " : "" }

    private func inKey(_ group: SetGroup) -> String {
        group.wildcard ? "meta l4proto . th dport" : "\(group.payload) daddr . meta l4proto . th dport"
    }

    private func outKey(_ group: SetGroup) -> String {
        group.wildcard ? "meta l4proto . udp sport" : "\(group.payload) saddr . meta l4proto . udp sport"
    }

    private func recentIn(_ group: SetGroup) -> String {
        let peer = "\(group.payload) saddr . udp sport"
        return group.wildcard ? "udp dport . \(peer)" : "\(group.payload) daddr . udp dport . \(peer)"
    }

    private func recentOut(_ group: SetGroup) -> String {
        let peer = "\(group.payload) daddr . udp dport"
        return group.wildcard ? "udp sport . \(peer)" : "\(group.payload) saddr . udp sport . \(peer)"
    }

    /// The nft type of a set.
    func type(of kind: SetKind, in group: SetGroup) -> String {
        let key = group.wildcard ? "inet_proto . inet_service" : "\(group.addressType) . inet_proto . inet_service"
        switch kind {
        case .bound, .drop, .open, .bidir: return key
        case .peer, .range: return "\(key) . \(group.addressType)"
        case .recent:
            let peer = "\(group.addressType) . inet_service"
            return group.wildcard ? "inet_service . \(peer)" : "\(group.addressType) . inet_service . \(peer)"
        }
    }

    private func declaration(of kind: SetKind, in group: SetGroup) -> String {
        var flags = ""
        switch kind {
        case .bound, .drop: flags = " counter;"
        case .range: flags = " flags interval;"
        case .recent: flags = " flags dynamic, timeout; timeout \(recentTimeoutSeconds)s; size \(maxRecentPeers);"
        case .open, .peer, .bidir: break
        }
        return "type \(type(of: kind, in: group));\(flags)"
    }

    /// A key no bind can have (IP protocol 0, never tcp or udp, so no packet matches it), kept in
    /// every set fwsessiond fills: when it is missing, the set was flushed by hand.
    static func sentinel(_ kind: SetKind, in group: SetGroup) -> String {
        let zero = group.family == .v4 ? "0.0.0.0" : "::"
        let key = group.wildcard ? "0 . 0" : "\(zero) . 0 . 0"
        switch kind {
        case .peer, .range: return "\(key) . \(zero)"
        default: return key
        }
    }

    /// Netlink bytes of the sentinel of a bound, drop, open or bidir set.
    static func sentinelBytes(in group: SetGroup) -> [UInt8] { Array(repeating: 0, count: group.keyLength) }

    /// One transaction that replaces the table with its full definition and `elements` (with the
    /// counters they start from): declared, deleted and defined again in one batch, so no packet
    /// ever meets a missing or half-loaded table (a non-atomic reload let thousands through).
    func fullLoad(elements: [String: [String]]) -> String {
        var text = "table inet \(table) {}\ndelete table inet \(table)\ntable inet \(table) {\n"
        text += "  counter accepted {}\n  counter discarded {}\n"
        for group in SetGroup.allCases {
            for kind in SetKind.allCases {
                let name = group.set(kind)
                text += "  set \(name) { \(declaration(of: kind, in: group))"
                if kind != .recent {
                    text += " elements = { \(Self.sentinel(kind, in: group))"
                    for element in elements[name] ?? [] {
                        text += ", "
                        text += element
                    }
                    text += " }"
                }
                text += " }\n"
            }
        }
        for chain in chains {
            text += "  chain \(chain.name) {\n"
            if let header = chain.header { text += "    \(header)\n" }
            for rule in chain.rules { text += "    \(rule)\n" }
            text += "  }\n"
        }
        text += "}\n"
        return text
    }
}
