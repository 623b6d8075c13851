/// Why the server could not start: an invalid configuration, a host that is not an IP literal,
/// or libmicrohttpd refusing to listen (its own message, e.g. "Address already in use", is included).
public struct HTTPServerError: Error, CustomStringConvertible {
    /// A sentence fit for an operator.
    public var description: String

    /// Creates an error with the given message.
    public init(_ description: String) {
        self.description = description
    }
}
