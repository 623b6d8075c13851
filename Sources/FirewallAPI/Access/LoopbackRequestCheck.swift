import FirewallSessions

/// Without tokens the API trusts every caller on this machine, so it makes sure a request really
/// comes from a program on this machine and not from a web page in a browser here.
///
/// A page on `attacker.example` can rebind its name to 127.0.0.1 and then call the API as its
/// own origin (DNS rebinding), or post to `http://localhost:8080` from its own origin
/// (cross-site request forgery). Both leave traces a browser cannot hide: the first sends its
/// own name in `Host`, the second sends its `Origin` and `Sec-Fetch-Site: cross-site`. So in
/// tokenless mode `Host` must name the loopback (`localhost`, `127.0.0.0/8`, `[::1]`, with or
/// without a port), and `Origin`, when sent, must be a loopback origin. A request without `Host`
/// (HTTP/1.0 tools) cannot come from a browser and passes.
public enum LoopbackRequestCheck {
    /// Why the request must be refused, or nil when it may go on.
    public static func refusal(host: String?, origin: String?, fetchSite: String?) -> String? {
        if let host, !isLoopbackAuthority(host) {
            return "the Host header does not name this machine's loopback (localhost, 127.0.0.0/8 or [::1]); "
                + "without access tokens only those names are served, so that a web page cannot reach the API "
                + "through a rebound DNS name"
        }
        if let fetchSite, fetchSite.lowercased() == "cross-site" {
            return "a cross-site browser request (Sec-Fetch-Site: cross-site) is refused: without access tokens "
                + "only programs on this machine and pages of its loopback origins may call the API"
        }
        if let origin, !isLoopbackOrigin(origin) {
            return "a browser request from another origin is refused: without access tokens only programs on this "
                + "machine and pages of its loopback origins may call the API"
        }
        return nil
    }

    /// `localhost`, an address in 127.0.0.0/8 or `[::1]`, each optionally with `:port`.
    static func isLoopbackAuthority(_ authority: String) -> Bool {
        var host = Substring(authority)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let port = host[host.index(after: close)...]
            guard port.isEmpty || isPort(port) else { return false }
            host = host[host.index(after: host.startIndex)..<close]
            guard host.contains(":"), let address = IPAddress(host) else { return false }
            return isLoopback(address)
        }
        if let colon = host.lastIndex(of: ":") {
            guard isPort(host[colon...]) else { return false }
            host = host[..<colon]
        }
        if host.lowercased() == "localhost" { return true }
        guard let address = IPAddress(host), address.family == .v4 else { return false }
        return isLoopback(address)
    }

    /// `http://` or `https://` and a loopback authority; `null` (a sandboxed or local file) is not.
    static func isLoopbackOrigin(_ origin: String) -> Bool {
        let lowered = origin.lowercased()
        for scheme in ["http://", "https://"] where lowered.hasPrefix(scheme) {
            return isLoopbackAuthority(String(origin.dropFirst(scheme.count)))
        }
        return false
    }

    /// `:` and 1 to 5 decimal digits.
    private static func isPort(_ text: Substring) -> Bool {
        let digits = text.dropFirst()
        return text.first == ":" && (1...5).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func isLoopback(_ address: IPAddress) -> Bool {
        if let v4 = address.v4Value { return v4 >> 24 == 127 }
        return address == IPAddress(v6: 0, 1)
    }
}
