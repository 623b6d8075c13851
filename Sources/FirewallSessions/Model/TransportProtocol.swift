/// The IP protocol of a bind or a decision.
public enum TransportProtocol: String, Sendable, Hashable, CaseIterable {
    case tcp
    case udp
}
