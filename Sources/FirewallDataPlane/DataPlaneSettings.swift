/// How the nftables data plane runs (`"dataplane"` in the configuration file).
public struct DataPlaneSettings: Sendable, Equatable {
    /// What happens to the table when fwsessiond stops cleanly.
    public enum ShutdownAction: String, Sendable, CaseIterable {
        /// Keep it: approved flows go on and pending binds stay blocked across an upgrade.
        case keep
        /// Delete it: the host's own ruleset alone decides afterwards.
        case remove
    }

    /// The `inet` table fwsessiond owns; it never touches any other.
    public var table = "fwsessiond"
    /// Bits OR-ed into the packet mark of every packet the table accepts (0: none), so a host
    /// ruleset with a drop policy can let them through (an accept is final only within one table).
    public var mark: UInt32 = 0x0010_0000
    /// Keep or remove the table on a clean shutdown.
    public var onShutdown = ShutdownAction.keep
    /// Binds whose kernel counters are read back into the state each second (all of them, in
    /// turn); reads of a bind through the API always read its counters at once.
    public var countersPerSecond = 2_000
    /// Entries of the kernel's table of recent UDP peers (bidirectional replies), across all binds.
    public var maxRecentPeers = 1_048_576

    /// The defaults.
    public init() {}

    /// Whether `name` can be an nftables table name here: a letter, then letters, digits and `_`,
    /// at most 32 characters (only validated names ever reach libnftables).
    public static func isValidTableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 32 else { return false }
        func isLetter(_ scalar: Unicode.Scalar) -> Bool {
            (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
        }
        return isLetter(first) && name.unicodeScalars.allSatisfy { isLetter($0) || ($0 >= "0" && $0 <= "9") || $0 == "_" }
    }
}
