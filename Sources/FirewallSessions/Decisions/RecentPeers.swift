/// The peers that recently sent to a bidirectional UDP bind, each with when it last did.
///
/// Bounded: past `capacity` the least recently seen peer is forgotten, so a bind flooded from many
/// sources cannot grow memory. Entries older than the window are ignored and overwritten.
public struct RecentPeers: Sendable {
    private var peers: [SocketAddress] = []
    private var lastSeen: [Double] = []

    /// An empty set.
    public init() {}

    /// How many peers are remembered (expired ones included until overwritten).
    public var count: Int { peers.count }

    /// Remembers that `peer` sent at `now`.
    public mutating func record(_ peer: SocketAddress, at now: Timestamp, capacity: Int) {
        if let index = peers.firstIndex(of: peer) {
            lastSeen[index] = now.seconds
            return
        }
        if peers.count < capacity {
            peers.append(peer)
            lastSeen.append(now.seconds)
            return
        }
        guard let oldest = lastSeen.indices.min(by: { lastSeen[$0] < lastSeen[$1] }) else { return }
        peers[oldest] = peer
        lastSeen[oldest] = now.seconds
    }

    /// Whether `peer` (address and port) sent within `window` seconds before `now`.
    public func contains(_ peer: SocketAddress, at now: Timestamp, window: Double) -> Bool {
        guard let index = peers.firstIndex(of: peer) else { return false }
        return now.seconds - lastSeen[index] <= window
    }

    /// Drops peers older than the window; true when nothing is left.
    public mutating func prune(at now: Timestamp, window: Double) -> Bool {
        var index = 0
        while index < peers.count {
            if now.seconds - lastSeen[index] > window {
                peers.swapAt(index, peers.count - 1)
                lastSeen.swapAt(index, lastSeen.count - 1)
                peers.removeLast()
                lastSeen.removeLast()
            } else {
                index += 1
            }
        }
        return peers.isEmpty
    }
}
