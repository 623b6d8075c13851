import CNetfilterGlue
import FirewallPipeline
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Reads fwsessiond's table over netlink: per-bind counters, the table's named counters and
/// the health checks. One socket, serialised by a mutex: the API's reads of bind counters and
/// the data plane thread's checks share it (each read is a few netlink round trips).
final class KernelReader: Sendable {
    private let socket: Mutex<SocketBox>
    let table: String

    /// NFPROTO_INET: the family of an `inet` table.
    static let inetFamily: UInt16 = 1

    init(table: String) throws(SinkError) {
        var error: Int32 = 0
        guard let handle = fws_nl_open(&error) else { throw Self.socketError(error) }
        socket = Mutex(SocketBox(handle))
        self.table = table
    }

    /// Counters of elements, each a key in a set (nil for an element that does not exist), all
    /// asked in one write to the socket. Keys are `keyLength` bytes.
    func counters(of elements: [(set: String, key: [UInt8])], keyLength: Int) throws(SinkError)
        -> [(packets: UInt64, bytes: UInt64)?]
    {
        guard !elements.isEmpty else { return [] }
        var flat: [UInt8] = []
        flat.reserveCapacity(elements.count * keyLength)
        for element in elements { flat += element.key }
        var packets = [UInt64](repeating: 0, count: elements.count)
        var bytes = [UInt64](repeating: 0, count: elements.count)
        var found = [UInt8](repeating: 0, count: elements.count)
        // Few distinct set names: one C string each for the call.
        var names: [String: UnsafeMutablePointer<CChar>] = [:]
        for element in elements where names[element.set] == nil { names[element.set] = strdup(element.set) }
        defer { for name in names.values { free(name) } }
        let sets: [UnsafePointer<CChar>?] = elements.map { UnsafePointer(names[$0.set]) }
        let result = socket.withLock { box in
            fws_nl_element_counters(
                box.handle, Self.inetFamily, table, sets, flat, UInt32(keyLength), UInt32(elements.count), &packets,
                &bytes, &found)
        }
        try Self.check(result, "reading counters")
        return elements.indices.map { found[$0] != 0 ? (packets[$0], bytes[$0]) : nil }
    }

    /// The keys of every element of a set (for the small, kernel-filled set of recent peers).
    func keys(set: String, keyLength: Int) throws(SinkError) -> [[UInt8]] {
        var capacity = 1024
        while true {
            var flat = [UInt8](repeating: 0, count: capacity * keyLength)
            let result = socket.withLock { box in
                fws_nl_set_keys(box.handle, Self.inetFamily, table, set, &flat, UInt32(keyLength), UInt32(capacity))
            }
            try Self.check(result, "reading set \(set)")
            let count = Int(result)
            if count <= capacity {
                return (0..<count).map { Array(flat[$0 * keyLength..<($0 + 1) * keyLength]) }
            }
            capacity = count + count / 4
        }
    }

    /// A named counter of the table.
    func counter(_ name: String) throws(SinkError) -> UInt64 {
        var packets: UInt64 = 0
        var bytes: UInt64 = 0
        let result = socket.withLock { box in fws_nl_counter_object(box.handle, Self.inetFamily, table, name, &packets, &bytes) }
        try Self.check(result, "reading counter \(name)")
        return packets
    }

    /// Whether the table exists.
    func tableExists() throws(SinkError) -> Bool {
        let result = socket.withLock { box in fws_nl_table_exists(box.handle, Self.inetFamily, table) }
        try Self.check(result, "looking up table \(table)")
        return result == 1
    }

    /// How many rules a chain of the table holds (0 when it is missing).
    func ruleCount(chain: String) throws(SinkError) -> Int {
        let result = socket.withLock { box in fws_nl_chain_rule_count(box.handle, Self.inetFamily, table, chain) }
        try Self.check(result, "reading chain \(chain)")
        return Int(result)
    }

    /// Why a netfilter netlink socket could not be opened, and what to do about it.
    static func socketError(_ error: Int32) -> SinkError {
        let reason = String(cString: strerror(error))
        switch error {
        case EAFNOSUPPORT, EPERM, EACCES:
            return SinkError(
                "cannot open a netfilter netlink socket: \(reason) (the nftables data plane needs AF_NETLINK and "
                    + "CAP_NET_ADMIN: under systemd install deploy/fwsessiond-dataplane.conf as a drop-in of the unit)")
        default:
            return SinkError("cannot open a netfilter netlink socket: \(reason)")
        }
    }

    /// C results become Swift errors here, and only here.
    private static func check(_ result: Int32, _ what: String) throws(SinkError) {
        guard result < 0 else { return }
        let reason = String(cString: strerror(-result))
        if -result == EPERM {
            throw SinkError(
                "\(what): \(reason): the nftables data plane needs CAP_NET_ADMIN (root, or under systemd the drop-in "
                    + "deploy/fwsessiond-dataplane.conf)")
        }
        throw SinkError("\(what): \(reason)")
    }
}

/// Owns the C handle.
private final class SocketBox: @unchecked Sendable {
    // @unchecked: only used inside `Mutex.withLock` of the owning reader.
    let handle: OpaquePointer
    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { fws_nl_close(handle) }
}
