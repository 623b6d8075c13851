/// The dwFlags of RetroactiveAllowBind.
public struct BindFlags: OptionSet, Sendable, Hashable {
    /// The bits.
    public var rawValue: UInt8

    /// Wraps the bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// FWX_FLAG_BIDIRECTIONAL: a UDP socket may also send back to peers that recently sent to it.
    public static let bidirectional = BindFlags(rawValue: 1 << 0)
    /// FWX_INCREASE_RECEIVE_BUFFER: a 64 KiB receive buffer, for bursty secondary UDP streams.
    public static let increaseReceiveBuffer = BindFlags(rawValue: 1 << 1)

    /// The wire names, in the order responses list them.
    public static let wireNames: [(name: String, flag: BindFlags)] = [
        ("bidirectional", .bidirectional),
        ("increase-receive-buffer", .increaseReceiveBuffer),
    ]

    /// The flag with a wire name, or nil.
    public static func named(_ name: String) -> BindFlags? {
        wireNames.first { $0.name == name }?.flag
    }

    /// The wire names of the flags set here.
    public var names: [String] { Self.wireNames.filter { contains($0.flag) }.map(\.name) }

    /// The receive buffer granted with `increaseReceiveBuffer`.
    public static let increasedReceiveBufferBytes = 65_536
}
