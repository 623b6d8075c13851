import CMicroHTTPD
import EventLoop
import Synchronization

/// Drives an ``HTTPBodyStream`` from libmicrohttpd's content-reader callback.
///
/// When the stream has nothing to send, the connection is suspended (so an idle stream holds no
/// MHD thread and costs no polling) and resumed when the stream signals new bytes. A signal that
/// arrives before the suspension is remembered, so no wake-up is lost.
///
/// A suspended connection is not watched by libmicrohttpd, so a client that goes away would only
/// be noticed at the next write that fails (two writes after it left: the first one merely draws
/// a reset). The server therefore asks each stream now and then whether its peer closed
/// (``endIfPeerClosed()``) and ends it at once.
final class StreamingResponse: Sendable {
    private enum Waiting {
        /// MHD is reading; nothing to do on a signal but remember it.
        case reading(signalled: Bool)
        /// Suspended until the stream signals.
        case suspended
        /// The response is gone; never touch the connection again.
        case closed
    }

    let stream: any HTTPBodyStream
    private let connection: SuspendedConnection
    /// The connection's socket (-1: unknown), only polled while the response is not closed.
    private let socket: Int32
    private let waiting = Mutex(Waiting.reading(signalled: false))
    /// Set once the peer closed its end: the next read ends the connection.
    private let peerClosed = Atomic<Bool>(false)
    private let onClose: @Sendable (StreamingResponse) -> Void

    init(
        stream: any HTTPBodyStream, connection: OpaquePointer, loop: EventLoop?,
        onClose: @escaping @Sendable (StreamingResponse) -> Void
    ) {
        self.stream = stream
        self.connection = SuspendedConnection(connection, loop: loop)
        socket = fws_mhd_connection_fd(connection)
        self.onClose = onClose
    }

    /// MHD wants up to `buffer.count` bytes. Returns the count, 0 (suspended, try later),
    /// `MHD_CONTENT_READER_END_OF_STREAM` or, once the peer is gone, `MHD_CONTENT_READER_END_WITH_ERROR`.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if peerClosed.load(ordering: .acquiring) { return Self.endWithError }
        switch stream.read(into: buffer) {
        case .bytes(let count):
            return count
        case .finished:
            return Self.endOfStream
        case .wouldBlock:
            waiting.withLock { state in
                if case .reading(signalled: true) = state {
                    // Bytes arrived between the read and now: let MHD ask again at once.
                    state = .reading(signalled: false)
                } else {
                    state = .suspended
                    connection.suspend()
                }
            }
            return 0
        }
    }

    /// The stream has bytes (or finished): resume the connection if it waits.
    func signal() {
        waiting.withLock { state in
            switch state {
            case .suspended:
                state = .reading(signalled: false)
                connection.resume()
            case .reading:
                state = .reading(signalled: true)
            case .closed:
                break
            }
        }
    }

    /// MHD is done with the response.
    func close() {
        waiting.withLock { $0 = .closed }
        stream.closed()
        onClose(self)
    }

    /// Ends the stream when its peer has closed its end: the connection is resumed if it waits, and
    /// the next read makes libmicrohttpd close it (which closes the stream). Checked under the
    /// lock `close()` takes, so the socket is still this connection's (MHD destroys the response
    /// before it closes the socket).
    func endIfPeerClosed() {
        guard socket >= 0 else { return }
        waiting.withLock { state in
            if case .closed = state { return }
            guard !peerClosed.load(ordering: .relaxed), fws_socket_peer_closed(socket) != 0 else { return }
            peerClosed.store(true, ordering: .releasing)
            if case .suspended = state {
                state = .reading(signalled: false)
                connection.resume()
            }
        }
    }

    /// `MHD_CONTENT_READER_END_OF_STREAM`, `(ssize_t) -1`.
    static let endOfStream = -1
    /// `MHD_CONTENT_READER_END_WITH_ERROR`, `(ssize_t) -2`: libmicrohttpd closes the connection.
    static let endWithError = -2
}

/// MHD_ContentReaderCallback for streamed responses; `cls` is the StreamingResponse, retained
/// until ``mhdStreamFree``.
func mhdStreamRead(_ cls: UnsafeMutableRawPointer?, _ position: UInt64, _ buffer: UnsafeMutablePointer<CChar>?, _ max: Int)
    -> Int
{
    guard let cls, let buffer else { return StreamingResponse.endOfStream }
    let streaming = Unmanaged<StreamingResponse>.fromOpaque(cls).takeUnretainedValue()
    return streaming.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: max))
}

/// MHD_ContentReaderFreeCallback: the response is destroyed (sent, failed or the daemon stopped).
func mhdStreamFree(_ cls: UnsafeMutableRawPointer?) {
    guard let cls else { return }
    Unmanaged<StreamingResponse>.fromOpaque(cls).takeRetainedValue().close()
}
