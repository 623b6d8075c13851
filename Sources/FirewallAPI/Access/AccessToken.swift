import FirewallSessions
import MicroHTTPServer

/// A configured token: its name, role and the SHA-256 of the secret (the secret is never stored).
public struct AccessToken: Sendable, Equatable {
    /// Shown in logs.
    public var name: String
    /// What it may do.
    public var role: Role
    /// SHA-256 of the token text, 32 bytes.
    public var sha256: [UInt8]

    /// Creates a token entry; `sha256Hex` must be 64 hex digits.
    public init?(name: String, role: Role, sha256Hex: String) {
        guard let digest = Hex.bytes(sha256Hex), digest.count == 32 else { return nil }
        self.name = name
        self.role = role
        sha256 = digest
    }

    /// SHA-256 of `text`'s UTF-8 bytes.
    public static func digest(_ text: String) -> [UInt8] { SHA256.digest(Array(text.utf8)) }

    /// A new random token: `fws_` and 43 base64url characters (256 bits from the system's CSPRNG).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        for _ in 0..<4 {
            let word: UInt64 = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return "fws_" + base64URL(bytes)
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << UInt32(16 - 8 * offset) }
            let characters = chunk.count + 1
            for position in 0..<characters { out.append(alphabet[Int((value >> UInt32(18 - 6 * position)) & 0x3F)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
