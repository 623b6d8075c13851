/// How a client reaches the gateway, which decides what the session knows about it.
public enum ClientType: String, Sendable, Hashable, CaseIterable {
    /// Firewall client software: sends a machine name and an authenticated user.
    case firewallClient = "firewall-client"
    /// A SecureNAT client: routed through the gateway, usually unauthenticated.
    case secureNAT = "securenat"
    /// A web proxy client.
    case webProxy = "web-proxy"
}
