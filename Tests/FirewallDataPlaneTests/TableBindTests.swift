import FirewallSessions
import Testing

@testable import FirewallDataPlane
@testable import FirewallPipeline

/// What the kernel's sets hold for a bind, and the transactions between two states: pure text,
/// checked without a kernel (the packet tests in Tests/integration check the kernel).
@Suite("Data plane elements")
struct TableBindTests {
    static let now = Timestamp(seconds: 1_790_000_000)

    static func bind(
        _ transport: TransportProtocol = .udp, _ address: String = "203.0.113.10:5000", id: UInt64 = 1,
        state: BindState = .pending, filter: BindIPFilter? = nil, flags: BindFlags = []
    ) -> Bind {
        guard case .success(let socket) = SocketAddress.parse(address) else { fatalError("fixture") }
        let grant = state == .allowed
            ? BindGrant(protocolGUID: BuiltInProtocols.sip.guid, flags: flags, ipFilter: filter, allowedAt: now) : nil
        return Bind(
            id: BindID(rawValue: id), sessionID: "s", transport: transport, address: socket, state: state, grant: grant,
            createdAt: now)
    }

    static func ranges(_ texts: String...) -> IPRangeSet {
        IPRangeSet(ranges: texts.map { text in
            guard case .success(let range) = IPRange.parse(text) else { fatalError("fixture") }
            return range
        })
    }

    static func texts(_ bind: Bind, _ filters: [String: IPRangeSet] = [:]) -> Set<String> {
        Set(TableBind(bind).elements(storedFilters: filters).map { "\($0.setOrder) \($0.text)" })
    }

    @Test("a pending or terminating bind is counted and dropped: it is only in bound and drop")
    func pending() {
        #expect(Self.texts(Self.bind()) == ["bound4 203.0.113.10 . 17 . 5000", "drop4 203.0.113.10 . 17 . 5000"])
        #expect(Self.texts(Self.bind(state: .terminating)) == Self.texts(Self.bind()))
    }

    @Test("an allowed bind without a filter is open to every peer; bidirectional adds it to bidir")
    func open() {
        #expect(Self.texts(Self.bind(state: .allowed, flags: [.bidirectional])) == [
            "bound4 203.0.113.10 . 17 . 5000", "drop4 203.0.113.10 . 17 . 5000",
            "open4 203.0.113.10 . 17 . 5000", "bidir4 203.0.113.10 . 17 . 5000",
        ])
    }

    @Test("a filter becomes single peers and ranges of the bind's family; an empty filter accepts nobody")
    func filtered() {
        let filter = Self.ranges("198.51.100.7", "198.51.100.16/28", "2001:db8::/32")
        let elements = Self.texts(Self.bind(.tcp, state: .allowed, filter: .inline(filter)))
        #expect(elements.contains("peer4 203.0.113.10 . 6 . 5000 . 198.51.100.7"))
        #expect(elements.contains("range4 203.0.113.10 . 6 . 5000 . 198.51.100.16-198.51.100.31"))
        #expect(!elements.contains { $0.contains("2001:db8") }, "a peer of the other family cannot reach the bind")
        #expect(!elements.contains { $0.hasPrefix("open4") })
        #expect(Self.texts(Self.bind(state: .allowed, filter: .inline(IPRangeSet()))) == Self.texts(Self.bind()))
    }

    @Test("wildcard and IPv6 binds use their own sets and keys")
    func groups() {
        #expect(Self.texts(Self.bind(.udp, "0.0.0.0:5000")) == ["bound" + "w4 17 . 5000", "dropw4 17 . 5000"])
        #expect(Self.texts(Self.bind(.tcp, "[2001:db8::1]:443")) == ["bound6 2001:db8::1 . 6 . 443", "drop6 2001:db8::1 . 6 . 443"])
        #expect(Self.texts(Self.bind(.udp, "[::]:5000", state: .allowed)).contains("openw6 17 . 5000"))
    }

    @Test("netlink keys pad every field of the concatenation to 4 bytes, in network order")
    func keyBytes() {
        #expect(BindKey(Self.bind(.tcp, "10.0.0.1:443")).bytes == [10, 0, 0, 1, 6, 0, 0, 0, 0x01, 0xBB, 0, 0])
        #expect(BindKey(Self.bind(.udp, "0.0.0.0:5004")).bytes == [17, 0, 0, 0, 0x13, 0x8C, 0, 0])
        #expect(BindKey(Self.bind(.udp, "[2001:db8::1]:1")).bytes.count == 24)
    }

    @Test("a stored filter's change rewrites the elements of every bind that follows it, and nothing else")
    func storedFilterChange() {
        let following = Self.bind(id: 1, state: .allowed, filter: .stored(id: "f-1"))
        let other = Self.bind(.tcp, "203.0.113.11:80", id: 2, state: .allowed)
        let mirror = DataPlaneMirror(
            binds: [following.id: TableBind(following), other.id: TableBind(other)], filters: ["f-1": Self.ranges("198.51.100.7")])
        let changed = StoredIPFilter(id: "f-1", ranges: Self.ranges("198.51.100.8"), createdAt: Self.now, updatedAt: Self.now, sequence: 1)
        let delta = DataPlaneDelta([.filterSaved(changed)], mirror: mirror)
        let (deletions, additions) = delta.operations(mirror: mirror)
        #expect(Self.texts(deletions) == ["peer4 203.0.113.10 . 17 . 5000 . 198.51.100.7"])
        #expect(Self.texts(additions) == ["peer4 203.0.113.10 . 17 . 5000 . 198.51.100.8"])
        #expect(additions.first?.element.key == BindKey(following).bytes + [198, 51, 100, 8])
    }

    static func texts(_ operations: [ElementOperation]) -> [String] {
        operations.map { "\($0.element.setOrder) \($0.element.text)" }
    }

    @Test("approval, revocation and removal are small transactions of element deletions and additions, grouped by set")
    func transitions() {
        let pending = Self.bind()
        var mirror = DataPlaneMirror(binds: [pending.id: TableBind(pending)], filters: [:])
        let approved = Self.bind(state: .allowed, flags: [.bidirectional])
        let approval = DataPlaneDelta([.bindSaved(approved)], mirror: mirror)
        let (none, added) = approval.operations(mirror: mirror)
        #expect(none.isEmpty)
        #expect(Self.texts(added) == ["bidir4 203.0.113.10 . 17 . 5000", "open4 203.0.113.10 . 17 . 5000"])
        mirror.commit(approval)
        let removal = DataPlaneDelta([.bindRemoved(approved.id)], mirror: mirror)
        let (deleted, nothing) = removal.operations(mirror: mirror)
        #expect(Set(Self.texts(deleted)) == [
            "bidir4 203.0.113.10 . 17 . 5000", "open4 203.0.113.10 . 17 . 5000",
            "bound4 203.0.113.10 . 17 . 5000", "drop4 203.0.113.10 . 17 . 5000",
        ])
        #expect(nothing.isEmpty)
        #expect(removal.forgetRecentPeers == [BindKey(approved)], "a removed bidirectional bind forgets its peers")
        let counters = DataPlaneDelta([.bindCounters([BindCounters(bindID: approved.id, accepted: 1, discarded: 2)])], mirror: mirror)
        #expect(counters.isEmpty, "counter flushes do not concern the kernel")
    }

    @Test("binds the store already held (adopted ones) reach the kernel like saved binds")
    func alreadyStoredBinds() {
        let approved = Self.bind(state: .allowed)
        let delta = DataPlaneDelta([.alreadyStored([.bindSaved(approved)])], mirror: DataPlaneMirror(binds: [:], filters: [:]))
        let (_, added) = delta.operations(mirror: DataPlaneMirror(binds: [:], filters: [:]))
        #expect(Set(Self.texts(added)) == ["bound4 203.0.113.10 . 17 . 5000", "drop4 203.0.113.10 . 17 . 5000", "open4 203.0.113.10 . 17 . 5000"])
    }

    @Test("binds handed over to another node (this node fenced) leave the kernel like removed binds")
    func handedOverBinds() {
        let approved = Self.bind(state: .allowed)
        let mirror = DataPlaneMirror(binds: [approved.id: TableBind(approved)], filters: [:])
        let (deleted, added) = DataPlaneDelta([.bindsHandedOver([approved.id])], mirror: mirror).operations(mirror: mirror)
        #expect(Set(Self.texts(deleted)) == ["bound4 203.0.113.10 . 17 . 5000", "drop4 203.0.113.10 . 17 . 5000", "open4 203.0.113.10 . 17 . 5000"])
        #expect(added.isEmpty)
    }

    @Test("a bind new to the kernel starts its counted elements from its counters (an adopted or restored bind)")
    func startingCounters() {
        var known = Self.bind(state: .allowed)
        known.acceptedCount = 5
        known.discardedCount = 2
        let (_, added) = DataPlaneDelta([.bindSaved(known)], mirror: DataPlaneMirror(binds: [:], filters: [:]))
            .operations(mirror: DataPlaneMirror(binds: [:], filters: [:]))
        let packets = Dictionary(uniqueKeysWithValues: added.map { ($0.element.setOrder, $0.packets) })
        #expect(packets == ["bound4": 7, "drop4": 2, "open4": 0])
    }

    @Test("a range becomes one interval element: the key of its first value and of its last")
    func rangeKeys() {
        let bind = Self.bind(.tcp, "10.0.0.1:443", state: .allowed, filter: .inline(Self.ranges("198.51.100.16/28")))
        let range = TableBind(bind).elements(storedFilters: [:]).first { $0.kind == .range }
        #expect(range?.key == BindKey(bind).bytes + [198, 51, 100, 16])
        #expect(range?.keyEnd == BindKey(bind).bytes + [198, 51, 100, 31])
    }

    @Test("a load fills the unused generation, then one transaction points the base chains at it and deletes the old one")
    func generations() {
        let definition = TableDefinition(table: "fwsessiond", mark: 0x10_0000, recentTimeoutSeconds: 120, maxRecentPeers: 1000)
        let created = definition.creation(.b)
        #expect(created.contains("set bound4_b { type ipv4_addr . inet_proto . inet_service; counter; elements = { 0.0.0.0 . 0 . 0 } }"))
        #expect(created.contains("set recent6_b { type ipv6_addr . inet_service . ipv6_addr . inet_service; flags dynamic, timeout; timeout 120s; size 1000; }"))
        #expect(created.contains("meta mark set meta mark | 0x100000 counter name \"accepted\" accept"))
        for name in ["bound4_a", "peerw6_a", "binds_in_a", "outpeer4_a"] {
            #expect(!created.contains(name), "creating generation b touches nothing of a")
        }
        // Leftovers of b (a load that did not finish) are removed first: declared, so deleting cannot fail.
        #expect(created.hasPrefix("add chain inet fwsessiond binds_in_b\n"))
        let switched = definition.switchTo(.b)
        #expect(switched.hasPrefix("""
            flush chain inet fwsessiond input
            add rule inet fwsessiond input meta l4proto { tcp, udp } jump binds_in_b
            flush chain inet fwsessiond output
            add rule inet fwsessiond output meta l4proto udp jump binds_out_b
            """))
        #expect(switched.contains("delete set inet fwsessiond bound4_a\n"))
        #expect(!switched.contains("delete set inet fwsessiond bound4_b"))
        #expect(!definition.skeleton.contains("flags owner"), "the table must outlive the process")
        let unmarked = TableDefinition(table: "t", mark: 0, recentTimeoutSeconds: 1, maxRecentPeers: 1).creation(.a)
        #expect(!unmarked.contains("meta mark set"))
    }

    @Test("table names are validated before they reach libnftables")
    func tableNames() {
        #expect(DataPlaneSettings.isValidTableName("fwsessiond"))
        #expect(DataPlaneSettings.isValidTableName("fw_2"))
        #expect(!DataPlaneSettings.isValidTableName("2fw"))
        #expect(!DataPlaneSettings.isValidTableName("fw; flush ruleset"))
        #expect(!DataPlaneSettings.isValidTableName(""))
        #expect(!DataPlaneSettings.isValidTableName(String(repeating: "a", count: 33)))
    }
}
