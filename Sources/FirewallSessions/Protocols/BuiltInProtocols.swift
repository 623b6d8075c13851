/// The predefined protocol definitions, with fixed GUIDs (listed in the README).
///
/// The GUIDs are this project's own: the Firewall service's are not public. The SIP one is the
/// GUID API.md uses in its RetroactiveAllowBind example, so that example works as written.
public enum BuiltInProtocols {
    /// FTP: the control channel on TCP 21; its data connections are RetroactiveAllowBind's classic case.
    public static let ftp = make("477d0251-8a01-4895-9727-ba1370e17366", "FTP", [(.tcp, 21...21, .outbound)])
    /// H.323 call signalling on TCP 1720.
    public static let h323 = make("389ce06c-a0e6-499a-8dc2-84761633c2ad", "H.323", [(.tcp, 1720...1720, .outbound)])
    /// RTSP on TCP 554.
    public static let rtsp = make("b7f58360-b6d5-4b30-a9eb-d9b745cf5261", "RTSP", [(.tcp, 554...554, .outbound)])
    /// SIP on UDP and TCP 5060.
    public static let sip = make(
        "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21", "SIP", [(.udp, 5060...5060, .sendReceive), (.tcp, 5060...5060, .outbound)])
    /// PPTP control on TCP 1723.
    public static let pptp = make("2dd6f99f-5d60-4839-a4b6-deb5cba60bdf", "PPTP", [(.tcp, 1723...1723, .outbound)])
    /// TFTP on UDP 69.
    public static let tftp = make("aab7a7dd-8a2c-45b2-a301-1aec1e852830", "TFTP", [(.udp, 69...69, .sendReceive)])

    /// All of them, in the order `GET /protocols` lists them first.
    public static let all: [ProtocolDefinition] = [ftp, h323, rtsp, sip, pptp, tftp]

    private static func make(
        _ guid: String, _ name: String, _ connections: [(TransportProtocol, ClosedRange<UInt16>, ConnectionDirection)]
    ) -> ProtocolDefinition {
        guard let parsed = ProtocolGUID(guid) else { preconditionFailure("malformed built-in GUID \(guid)") }
        return ProtocolDefinition(
            guid: parsed, name: name,
            primaryConnections: connections.map { PrimaryConnection(transport: $0.0, ports: $0.1, direction: $0.2) },
            isBuiltIn: true)
    }
}
