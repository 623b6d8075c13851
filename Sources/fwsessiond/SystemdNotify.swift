#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd how the service is doing (`Type=notify`, see sd_notify(3)): `READY=1` once it
/// accepts requests, so units ordered after it start only then, and `STOPPING=1` when it drains.
///
/// The protocol is one datagram to the AF_UNIX socket named by `$NOTIFY_SOCKET`; written here
/// rather than linking libsystemd for it, so the binary needs nothing of systemd to run elsewhere.
enum SystemdNotify {
    /// Whether systemd asked for notifications (`$NOTIFY_SOCKET` is set).
    static var isExpected: Bool { socketPath != nil }

    /// Sends `state` (`KEY=value` lines); false when there is no socket or sending failed.
    @discardableResult
    static func send(_ state: String) -> Bool {
        guard var path = socketPath.map({ Array($0.utf8) }) else { return false }
        // An abstract socket is written with a leading '@' and addressed with a leading NUL.
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        var address = sockaddr_un()
        guard path.first == UInt8(ascii: "/") || path.first == 0,
            path.count < MemoryLayout.size(ofValue: address.sun_path)
        else { return false }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        // sun_path follows the 2-byte sun_family; an abstract name's length is exact (no NUL).
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)

        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
            }
        }
        return sent == message.count
    }

    private static var socketPath: String? {
        guard let value = getenv("NOTIFY_SOCKET") else { return nil }
        let path = String(cString: value)
        return path.isEmpty ? nil : path
    }
}
