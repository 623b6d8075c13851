/// Finds binds by address in constant time, for decisions and conflict checks.
///
/// Two maps: the exact (protocol, address, port) of every bind, and every bind on a
/// (protocol, family, port), so a wildcard bind can find the specific binds it conflicts with and
/// RetroactiveAllowBind with a wildcard address can find a session's binds on a port.
///
/// Public so that a large restored state's index can be built elsewhere, on a thread, while the
/// restore fills the other tables (`FirewallState(restoring:settings:addressIndex:)`).
public struct BindAddressIndex: Sendable {
    struct AddressKey: Hashable, Sendable {
        var transport: TransportProtocol
        var address: SocketAddress
    }

    struct PortKey: Hashable, Sendable {
        var transport: TransportProtocol
        var family: IPFamily
        var port: UInt16
    }

    private var byAddress: [AddressKey: BindID] = [:]
    private var byPort: [PortKey: [BindID]] = [:]

    init() {}

    /// The index of `binds`, in their order (the order decides which bind on a port a wildcard
    /// conflict names first).
    public init(indexing binds: [Bind]) {
        byAddress.reserveCapacity(binds.count)
        for bind in binds { insert(bind.id, bind.transport, bind.address) }
    }

    /// The bind holding exactly this address.
    func exact(_ transport: TransportProtocol, _ address: SocketAddress) -> BindID? {
        byAddress[AddressKey(transport: transport, address: address)]
    }

    /// The wildcard bind on this address's family and port.
    func wildcard(_ transport: TransportProtocol, for address: SocketAddress) -> BindID? {
        byAddress[AddressKey(transport: transport, address: SocketAddress.wildcard(family: address.ip.family, port: address.port))]
    }

    /// The bind a packet to `address` reaches: the exact address first, then the wildcard on that port.
    func lookup(_ transport: TransportProtocol, _ address: SocketAddress) -> BindID? {
        exact(transport, address) ?? wildcard(transport, for: address)
    }

    /// Every bind on this protocol, family and port.
    func onPort(_ transport: TransportProtocol, family: IPFamily, port: UInt16) -> [BindID] {
        byPort[PortKey(transport: transport, family: family, port: port)] ?? []
    }

    /// A bind that a new bind on `address` would conflict with: the same address, or any bind on
    /// the port when the new one is the wildcard, or the wildcard when the new one is specific.
    func conflict(_ transport: TransportProtocol, _ address: SocketAddress) -> BindID? {
        if let same = exact(transport, address) { return same }
        if address.isWildcard {
            return onPort(transport, family: address.ip.family, port: address.port).first
        }
        return wildcard(transport, for: address)
    }

    mutating func insert(_ id: BindID, _ transport: TransportProtocol, _ address: SocketAddress) {
        byAddress[AddressKey(transport: transport, address: address)] = id
        byPort[PortKey(transport: transport, family: address.ip.family, port: address.port), default: []].append(id)
    }

    mutating func remove(_ id: BindID, _ transport: TransportProtocol, _ address: SocketAddress) {
        let key = AddressKey(transport: transport, address: address)
        if byAddress[key] == id { byAddress[key] = nil }
        let portKey = PortKey(transport: transport, family: address.ip.family, port: address.port)
        guard var list = byPort[portKey], let index = list.firstIndex(of: id) else { return }
        list.remove(at: index)
        byPort[portKey] = list.isEmpty ? nil : list
    }
}

extension SocketAddress {
    /// The wildcard address (`0.0.0.0:P` or `[::]:P`) of a family.
    static func wildcard(family: IPFamily, port: UInt16) -> SocketAddress {
        SocketAddress(ip: family == .v4 ? IPAddress(v4: 0) : IPAddress(v6: 0, 0), port: port)
    }
}
