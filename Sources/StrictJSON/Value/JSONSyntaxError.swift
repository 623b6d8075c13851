/// Why and where a document is not valid JSON.
///
/// The offset lets a client find the problem in what it sent; the reason is short, human-readable and stable
/// enough to show in an API error response.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The byte offset where the document went wrong (the input's length when it ended too early).
    public var offset: Int
    /// What was wrong, e.g. "invalid UTF-8", "unexpected character 'x'", "nesting deeper than 64",
    /// "duplicate key \"a\"", "trailing data after the value", "empty body".
    public var reason: String

    /// Creates an error at `offset`.
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    /// The reason followed by the offset, e.g. `unexpected character 'x' at byte 12`.
    public var description: String {
        "\(reason) at byte \(offset)"
    }
}
