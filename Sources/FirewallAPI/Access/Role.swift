/// What a bearer token may do.
public enum Role: String, Sendable, Hashable, CaseIterable {
    /// GET only.
    case viewer
    /// Sessions, binds, RetroactiveAllowBind, decisions and IP filters (what helpers need).
    case filter
    /// Everything, rules and protocols included.
    case admin

    /// Whether this role may call a route that needs `access`.
    public func permits(_ access: RouteAccess) -> Bool {
        switch access {
        case .open, .read: true
        case .filter: self == .filter || self == .admin
        case .admin: self == .admin
        }
    }
}

/// What a route needs from the caller.
public enum RouteAccess: String, Sendable, Hashable {
    /// No token: health probes.
    case open
    /// Any role.
    case read
    /// `filter` or `admin`.
    case filter
    /// `admin` only.
    case admin
}

/// Who is calling: the token's name (logged; the token itself never is) and its role.
public struct Principal: Sendable, Equatable {
    /// The token's name from the configuration, e.g. `ftp-helper`.
    public var name: String
    /// What it may do.
    public var role: Role

    /// Creates a principal.
    public init(name: String, role: Role) {
        self.name = name
        self.role = role
    }

    /// The caller when no tokens are configured (the server then listens on loopback only).
    public static let loopback = Principal(name: "anonymous-loopback", role: .admin)
}
