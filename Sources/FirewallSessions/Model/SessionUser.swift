/// The authenticated user of a session: a name and the groups it belongs to.
public struct SessionUser: Sendable, Hashable {
    /// The account name, e.g. `CONTOSO\alice`.
    public var name: String
    /// The groups, e.g. `CONTOSO\FTP Users`.
    public var groups: [String]

    /// Creates a user.
    public init(name: String, groups: [String] = []) {
        self.name = name
        self.groups = groups
    }
}
