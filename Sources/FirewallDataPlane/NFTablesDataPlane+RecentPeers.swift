import FirewallPipeline
import FirewallSessions
import Logging

extension NFTablesDataPlane {
    /// Deletes the recent peers the kernel remembers for binds that were revoked, closed or
    /// removed, so a bind approved again starts with none (as `/decisions` do). The set is
    /// filled by the kernel, so its entries are read first; it holds only peers of the last window.
    func forget(recentPeersOf keys: Set<BindKey>, context: NFTContext, reader: KernelReader, table: String) {
        var byGroup: [SetGroup: [BindKey]] = [:]
        for key in keys { byGroup[key.group, default: []].append(key) }
        for (group, keys) in byGroup {
            let prefixes = keys.map { key in
                (key.address?.networkBytes ?? []) + [UInt8(key.port >> 8), UInt8(key.port & 0xFF), 0, 0]
            }
            // An entry may time out between the read and the delete, failing the delete: read again once.
            for attempt in 1...2 {
                do {
                    let stale = try reader.keys(set: group.set(.recent), keyLength: group.recentKeyLength)
                        .filter { entry in prefixes.contains { entry.starts(with: $0) } }
                    guard !stale.isEmpty else { break }
                    let texts = stale.map { Self.recentText($0, group: group) }
                    try context.run("delete element inet \(table) \(group.set(.recent)) { \(texts.joined(separator: ", ")) }\n")
                    break
                } catch {
                    if attempt == 2 { logger.warning("dataplane.recent-peers not forgotten", metadata: ["error": "\(error.message)"]) }
                }
            }
        }
    }

    /// nft text of a recent-peer key read over netlink.
    static func recentText(_ bytes: [UInt8], group: SetGroup) -> String {
        var offset = 0
        func address() -> String {
            defer { offset += group.addressLength }
            if group.family == .v4 {
                return bytes[offset..<offset + 4].map(String.init).joined(separator: ".")
            }
            let value = bytes[offset..<offset + 16].reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
            return IPAddress(v6: UInt64(truncatingIfNeeded: value >> 64), UInt64(truncatingIfNeeded: value)).description
        }
        func port() -> String {
            defer { offset += 4 }
            return String(UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]))
        }
        var fields: [String] = []
        if !group.wildcard { fields.append(address()) }
        fields.append(port())
        fields.append(address())
        fields.append(port())
        return fields.joined(separator: " . ")
    }
}
