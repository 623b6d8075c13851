#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to standard error (messages for people, kept apart from output for scripts).
func printToStandardError(_ text: String) {
    let line = Array((text + "\n").utf8)
    line.withUnsafeBytes { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
