import CGnuTLS

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
        guard let digest = Self.bytes(hex: sha256Hex), digest.count == 32 else { return nil }
        self.name = name
        self.role = role
        sha256 = digest
    }

    /// SHA-256 of `text`'s UTF-8 bytes.
    public static func digest(_ text: String) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var bytes = Array(text.utf8)
        let code = bytes.withUnsafeMutableBytes { input in
            digest.withUnsafeMutableBufferPointer { fws_sha256(input.baseAddress, input.count, $0.baseAddress) }
        }
        precondition(code == 0, "gnutls SHA-256 failed: \(code)")
        return digest
    }

    /// Lower-case hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        case 0x41...0x46: byte - 0x41 + 10
        default: nil
        }
    }

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
