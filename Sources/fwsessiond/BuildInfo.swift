import FirewallPersistence
import MicroHTTPServer

/// What this build is, for `fwsessiond_build_info` and the start-up log line.
enum BuildInfo {
    /// The release; kept equal to the Debian package's version (deploy/debian/changelog, checked by
    /// a test).
    static let version = "1.0.0"

    /// The labels of `fwsessiond_build_info`: the version and the C libraries in use.
    static var labels: [(String, String)] {
        [("version", version), ("libmicrohttpd", HTTPServer.libraryVersion), ("sqlite", SQLiteBackend.libraryVersion)]
    }
}
