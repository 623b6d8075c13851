/// A request body that is valid JSON but not what the endpoint accepts, naming the offending field.
///
/// The API layer turns these into field errors in its problem+json response, so `field` and `reason` are written
/// for the client: `field` is a path such as `ipFilter.include[2]` and `reason` completes a sentence about it
/// ("must be a string").
public struct JSONFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Path of the field: `"flags[0]"`, `"ipFilter.include[2]"`, `"user.name"`; `""` for the whole body.
    public var field: String
    /// What is wrong with it, e.g. "is required", "must be a string", "unknown field",
    /// "must be an integer in 1...65535".
    public var reason: String

    /// Creates an error for `field`.
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// `field reason`, e.g. `ipFilter.include[2] must be a string`, or `body …` for the whole body.
    public var description: String {
        "\(field.isEmpty ? "body" : field) \(reason)"
    }
}
