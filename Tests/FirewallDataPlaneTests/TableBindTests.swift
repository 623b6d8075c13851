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
        Set(TableBind(bind).elements(storedFilters: filters).map { "\($0.set) \($0.text)" })
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
        #expect(delta.commands(table: "t", mirror: mirror) == """
            delete element inet t peer4 { 203.0.113.10 . 17 . 5000 . 198.51.100.7 }
            add element inet t peer4 { 203.0.113.10 . 17 . 5000 . 198.51.100.8 }

            """)
    }

    @Test("approval, revocation and removal are small transactions: deletions first, one command per set")
    func transitions() {
        let pending = Self.bind()
        var mirror = DataPlaneMirror(binds: [pending.id: TableBind(pending)], filters: [:])
        let approved = Self.bind(state: .allowed, flags: [.bidirectional])
        let approval = DataPlaneDelta([.bindSaved(approved)], mirror: mirror)
        #expect(approval.commands(table: "t", mirror: mirror) == """
            add element inet t bidir4 { 203.0.113.10 . 17 . 5000 }
            add element inet t open4 { 203.0.113.10 . 17 . 5000 }

            """)
        mirror.commit(approval)
        let removal = DataPlaneDelta([.bindRemoved(approved.id)], mirror: mirror)
        #expect(removal.commands(table: "t", mirror: mirror).hasPrefix("delete element inet t bidir4"))
        #expect(!removal.commands(table: "t", mirror: mirror).contains("add element"))
        let counters = DataPlaneDelta([.bindCounters([BindCounters(bindID: approved.id, accepted: 1, discarded: 2)])], mirror: mirror)
        #expect(counters.isEmpty, "counter flushes do not concern the kernel")
    }

    @Test("a full load declares, deletes and defines the table in one batch, with a sentinel in every filled set")
    func fullLoad() {
        let definition = TableDefinition(table: "fwsessiond", mark: 0x10_0000, recentTimeoutSeconds: 120, maxRecentPeers: 1000)
        let text = definition.fullLoad(elements: ["bound4": ["203.0.113.10 . 17 . 5000 counter packets 3 bytes 0"]])
        #expect(text.hasPrefix("table inet fwsessiond {}\ndelete table inet fwsessiond\ntable inet fwsessiond {\n"))
        #expect(text.contains("set bound4 { type ipv4_addr . inet_proto . inet_service; counter; elements = { 0.0.0.0 . 0 . 0, 203.0.113.10 . 17 . 5000 counter packets 3 bytes 0 } }"))
        #expect(text.contains("set recent6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; flags dynamic, timeout; timeout 120s; size 1000; }"))
        #expect(text.contains("meta mark set meta mark | 0x100000 counter name \"accepted\" accept"))
        #expect(!text.contains("flags owner"), "the table must outlive the process")
        let unmarked = TableDefinition(table: "t", mark: 0, recentTimeoutSeconds: 1, maxRecentPeers: 1).fullLoad(elements: [:])
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
