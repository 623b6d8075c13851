/// A response body produced over time, e.g. Server-Sent Events.
///
/// The server pulls bytes when the connection can take them. When the stream has nothing to
/// send it answers `.wouldBlock`; the server then suspends the connection (an idle subscriber
/// holds no libmicrohttpd thread) until the stream calls the readable handler.
public protocol HTTPBodyStream: AnyObject, Sendable {
    /// Called on a libmicrohttpd thread: copy up to `buffer.count` bytes into `buffer`.
    /// Must not block.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> HTTPBodyStreamRead

    /// Installed by the server before the first `read`: the stream calls it (from any thread)
    /// when bytes are ready or it has finished, after a `read` answered `.wouldBlock`.
    /// Calling it when the connection is not waiting is harmless.
    func setReadableHandler(_ handler: @escaping @Sendable () -> Void)

    /// The response is over: the stream finished, the client went away, or the server stopped.
    /// Called once.
    func closed()
}

/// What `HTTPBodyStream.read` produced.
public enum HTTPBodyStreamRead: Sendable, Equatable {
    /// This many bytes were copied (more than zero).
    case bytes(Int)
    /// Nothing to send now; wait for the readable handler.
    case wouldBlock
    /// The body is complete.
    case finished
}
