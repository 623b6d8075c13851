import CMicroHTTPD
import Synchronization

/// Drives an ``HTTPBodyStream`` from libmicrohttpd's content-reader callback.
///
/// When the stream has nothing to send, the connection is suspended (so an idle stream holds no
/// MHD thread and costs no polling) and resumed when the stream signals new bytes. A signal that
/// arrives before the suspension is remembered, so no wake-up is lost.
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
    private let waiting = Mutex(Waiting.reading(signalled: false))

    init(stream: any HTTPBodyStream, connection: OpaquePointer) {
        self.stream = stream
        self.connection = SuspendedConnection(connection)
    }

    /// MHD wants up to `buffer.count` bytes. Returns the count, 0 (suspended, try later) or
    /// `MHD_CONTENT_READER_END_OF_STREAM`.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
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
    }

    /// `MHD_CONTENT_READER_END_OF_STREAM`, `(ssize_t) -1`.
    static let endOfStream = -1
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
