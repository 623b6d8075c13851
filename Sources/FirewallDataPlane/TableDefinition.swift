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

    /// The base chains, hooked into input and output, each with one rule: a jump to the binds
    /// chain of the generation in use.
    func baseChains(_ generation: Generation) -> [(name: String, header: String, rule: String)] {
        [
            ("input", "type filter hook input priority filter - 10; policy accept;",
             "meta l4proto { tcp, udp } jump \(generation.chain("binds_in"))"),
            ("output", "type filter hook output priority filter - 10; policy accept;",
             "meta l4proto udp jump \(generation.chain("binds_out"))"),
        ]
    }

    /// The chains of one generation, each with its rules (the health check expects their counts).
    func chains(_ generation: Generation) -> [(name: String, rules: [String])] {
        let g = generation
        var chains: [(String, [String])] = [
            (g.chain("binds_in"), SetGroup.allCases.map { group in
                "\(guardFor(group))\(inKey(group)) @\(g.set(.bound, group)) goto \(g.chain("in\(group.suffix)"))"
            }),
            (g.chain("binds_out"), SetGroup.allCases.map { group in
                "\(guardFor(group))\(outKey(group)) @\(g.set(.bound, group)) goto \(g.chain("out\(group.suffix)"))"
            }),
            (g.chain("accept_out"), [accept]),
        ]
        for group in SetGroup.allCases {
            let s = group.suffix
            let peerIn = "\(group.payload) saddr"
            let peerOut = "\(group.payload) daddr"
            let acceptIn = g.chain("accept_in\(s)")
            let acceptOut = g.chain("accept_out")
            chains.append((g.chain("in\(s)"), [
                "\(inKey(group)) @\(g.set(.open, group)) goto \(acceptIn)",
                "\(inKey(group)) . \(peerIn) @\(g.set(.peer, group)) goto \(acceptIn)",
                "\(inKey(group)) . \(peerIn) @\(g.set(.range, group)) goto \(acceptIn)",
                "\(inKey(group)) @\(g.set(.drop, group)) \(discard)",
                discard,
            ]))
            chains.append((acceptIn, [
                "\(inKey(group)) @\(g.set(.bidir, group)) update @\(g.set(.recent, group)) { \(recentIn(group)) }",
                accept,
            ]))
            chains.append((g.chain("out\(s)"), [
                "\(outKey(group)) @\(g.set(.bidir, group)) \(recentOut(group)) @\(g.set(.recent, group)) goto \(g.chain("outpeer\(s)"))",
                "\(outKey(group)) @\(g.set(.drop, group)) \(discard)",
                discard,
            ]))
            chains.append((g.chain("outpeer\(s)"), [
                "\(outKey(group)) @\(g.set(.open, group)) goto \(acceptOut)",
                "\(outKey(group)) . \(peerOut) @\(g.set(.peer, group)) goto \(acceptOut)",
                "\(outKey(group)) . \(peerOut) @\(g.set(.range, group)) goto \(acceptOut)",
                "\(outKey(group)) @\(g.set(.drop, group)) \(discard)",
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

    /// The table, its named counters and its base chains, created if missing and left as they
    /// are otherwise (an nft `add` of what exists changes nothing).
    var skeleton: String {
        var text = "table inet \(table) {\n  counter accepted {}\n  counter discarded {}\n"
        for chain in baseChains(.a) {
            text += "  chain \(chain.name) {\n    \(chain.header)\n  }\n"
        }
        return text + "}\n"
    }

    /// Deletes whatever exists of one generation's chains and sets: each is declared first (so
    /// deleting it cannot fail when it is missing), the chains are emptied of the rules that refer
    /// to the sets and to each other, then all are deleted.
    func removal(_ generation: Generation) -> String {
        let chains = chains(generation).map(\.name)
        let sets = SetGroup.allCases.flatMap { group in SetKind.allCases.map { (generation.set($0, group), declaration(of: $0, in: group)) } }
        var text = ""
        for chain in chains { text += "add chain inet \(table) \(chain)\n" }
        for (set, declaration) in sets { text += "add set inet \(table) \(set) { \(declaration) }\n" }
        for chain in chains { text += "flush chain inet \(table) \(chain)\n" }
        for chain in chains { text += "delete chain inet \(table) \(chain)\n" }
        for (set, _) in sets { text += "delete set inet \(table) \(set)\n" }
        return text
    }

    /// One generation's sets (empty but for their sentinels) and chains, replacing any leftovers
    /// of that generation (from a load that did not finish).
    func creation(_ generation: Generation) -> String {
        var text = removal(generation)
        text += "table inet \(table) {\n"
        for group in SetGroup.allCases {
            for kind in SetKind.allCases {
                text += "  set \(generation.set(kind, group)) { \(declaration(of: kind, in: group))"
                if kind != .recent { text += " elements = { \(Self.sentinel(kind, in: group)) }" }
                text += " }\n"
            }
        }
        for chain in chains(generation) {
            text += "  chain \(chain.name) {\n"
            for rule in chain.rules { text += "    \(rule)\n" }
            text += "  }\n"
        }
        return text + "}\n"
    }

    /// One transaction that points the base chains at `generation`, marks it as in use and
    /// deletes the other.
    func switchTo(_ generation: Generation) -> String {
        var text = ""
        for chain in baseChains(generation) {
            text += "flush chain inet \(table) \(chain.name)\nadd rule inet \(table) \(chain.name) \(chain.rule)\n"
        }
        text += "add counter inet \(table) \(generation.marker)\n"
        text += "add counter inet \(table) \(generation.other.marker)\ndelete counter inet \(table) \(generation.other.marker)\n"
        return text + removal(generation.other)
    }
}
