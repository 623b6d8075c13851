import FirewallPipeline
import FirewallSessions
import Logging

extension NFTablesDataPlane {
    /// Deletes the recent peers the kernel remembers for binds that were revoked, closed or
    /// removed, so a bind approved again starts with none (as `/decisions` do). The set is
    /// filled by the kernel, so its entries are read first; it holds only peers of the last window.
    func forget(
        recentPeersOf keys: Set<BindKey>, context: NFTContext, reader: KernelReader, table: String, generation: Generation
    ) {
        var byGroup: [SetGroup: [BindKey]] = [:]
        for key in keys { byGroup[key.group, default: []].append(key) }
        for (group, keys) in byGroup {
            let prefixes = keys.map { key in
                (key.address?.networkBytes ?? []) + [UInt8(key.port >> 8), UInt8(key.port & 0xFF), 0, 0]
            }
            // An entry may time out between the read and the delete, failing the delete: read again once.
            for attempt in 1...2 {
                do {
                    let set = generation.set(.recent, group)
                    let stale = try reader.keys(set: set, keyLength: group.recentKeyLength)
                        .filter { entry in prefixes.contains { entry.starts(with: $0) } }
                    guard !stale.isEmpty else { break }
                    let texts = stale.map { Self.recentText($0, group: group) }
                    try context.run("delete element inet \(table) \(set) { \(texts.joined(separator: ", ")) }\n")
                    break
                } catch {
                    if attempt == 2 { logger.warning("dataplane.recent-peers not forgotten", metadata: ["error": "\(error.message)"]) }
                }
            }
        }
    }

    /// nft text of a recent-peer key read over netlink: (bound address,) port, peer, peer port.
    static func recentText(_ bytes: [UInt8], group: SetGroup) -> String {
        var reader = KeyText(bytes, group: group)
        var fields: [String] = []
        if !group.wildcard { fields.append(reader.address()) }
        fields.append(reader.port())
        fields.append(reader.address())
        fields.append(reader.port())
        return fields.joined(separator: " . ")
    }
}
