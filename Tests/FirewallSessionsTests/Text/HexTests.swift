import FirewallSessions
import Testing

@Suite("Hex")
struct HexTests {
    @Test("every byte value of a digit, either case; anything else is nil")
    func digitValues() {
        for byte in UInt8.min...UInt8.max {
            let expected: UInt8? = switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
            #expect(Hex.value(of: byte) == expected, "byte \(byte)")
        }
    }

    @Test("bytes and string round-trip, lower-case out, either case in")
    func roundTrip() {
        let bytes: [UInt8] = [0x00, 0x0F, 0xA5, 0xFF, 0x10]
        #expect(Hex.string(bytes) == "000fa5ff10")
        #expect(Hex.bytes("000FA5ff10") == bytes)
        #expect(Hex.bytes("") == [])
    }

    @Test("an odd count or a non-hex digit is nil", arguments: ["0", "abc", "0g", "zz", "0x12", " 12"])
    func malformed(text: String) {
        #expect(Hex.bytes(text) == nil)
    }
}
