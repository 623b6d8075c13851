import MicroHTTPServer
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    /// FIPS 180-2's examples, and the empty message.
    @Test("known digests", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func digest(message: String, hex: String) {
        let digest = SHA256.digest(Array(message.utf8))
        #expect(digest.count == 32)
        #expect(digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() == hex)
    }
}
