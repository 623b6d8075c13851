import FirewallDataPlane
import StrictJSON

/// The `"dataplane"` section of the configuration file.
enum DataPlaneConfiguration {
    /// Reads `"dataplane": {"kind", "table", "mark", "onShutdown", "countersPerSecond",
    /// "maxRecentPeers"}`; `"kind": "none"` (the default) leaves `dataPlane` nil.
    static func apply(_ root: inout JSONObjectReader, to dataPlane: inout DataPlaneSettings?) throws(JSONFieldError) {
        guard var section = try root.optionalObject("dataplane") else { return }
        var settings = DataPlaneSettings()
        let kind = try section.optionalSetting("kind", SettingValue.choice(DataPlaneKind.self)) ?? .none
        if let table = try section.optionalString("table") {
            guard DataPlaneSettings.isValidTableName(table) else {
                throw JSONFieldError(field: "dataplane.table", reason: "must be a letter, then letters, digits or _, at most 32 characters")
            }
            settings.table = table
        }
        if let mark = try section.optionalInt("mark", in: 0...0xFFFF_FFFF) { settings.mark = UInt32(mark) }
        if let action = try section.optionalEnum("onShutdown", DataPlaneSettings.ShutdownAction.self) { settings.onShutdown = action }
        if let rate = try section.optionalInt("countersPerSecond", in: 1...1_000_000) { settings.countersPerSecond = Int(rate) }
        if let size = try section.optionalInt("maxRecentPeers", in: 1...16_777_216) { settings.maxRecentPeers = Int(size) }
        try section.rejectUnknownKeys()
        dataPlane = kind == .nftables ? settings : nil
    }
}

/// `--dataplane` and `dataplane.kind`: whether the kernel's firewall is programmed.
enum DataPlaneKind: String, CaseIterable {
    /// Nothing is enforced; no privileges needed.
    case none
    /// The nftables data plane.
    case nftables
}
