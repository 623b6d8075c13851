import Foundation
import Testing
import StrictJSON

/// An independent parser as the referee: whatever this parser accepts, Foundation must accept with the same
/// meaning (the reverse does not hold, since this parser is stricter: duplicates, lone surrogates, depth).
@Suite("Cross-check with Foundation's JSONSerialization")
struct FoundationCrossCheckTests {
    @Test("the valid corpus", arguments: validCorpus)
    func corpus(_ text: String) throws {
        let ours = try JSONParser.parse(text)
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        #expect(Self.matches(ours, theirs), "\(ours) vs \(theirs)")
    }

    @Test("the writer's output is valid JSON to Foundation too", arguments: 0..<2)
    func writerOutput(seed: UInt64) throws {
        var generator = RandomJSON(rng: SplitMix64(seed: 5_000 + seed))
        for _ in 0..<500 {
            let value = generator.value()
            guard Self.isFinite(value) else { continue }
            let bytes = written(value)
            let theirs = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            #expect(Self.matches(value, theirs), "\(value) vs \(theirs)")
        }
    }

    @Test("mutated documents this parser accepts mean the same to Foundation", arguments: 0..<2)
    func mutatedAgreement(seed: UInt64) {
        var rng = SplitMix64(seed: 6_000 + seed)
        var compared = 0
        for _ in 0..<1_500 {
            var bytes = utf8(validCorpus.randomElement(using: &rng)!)
            FuzzTests.mutate(&bytes, using: &rng)
            guard case .success(let ours) = outcome(bytes), Self.isFinite(ours) else { continue }
            compared += 1
            do {
                let theirs = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
                #expect(Self.matches(ours, theirs), "\(String(decoding: bytes, as: UTF8.self)): \(ours) vs \(theirs)")
            } catch {
                Issue.record("Foundation rejects what this parser accepted: \(String(decoding: bytes, as: UTF8.self))")
            }
        }
        #expect(compared > 50)
    }

    /// Foundation refuses numbers beyond Double's range, which this parser deliberately keeps as text.
    static func isFinite(_ value: JSONValue) -> Bool {
        switch value {
        case .number(let number): number.double.isFinite
        case .array(let elements): elements.allSatisfy(isFinite)
        case .object(let object): object.members.allSatisfy { isFinite($0.value) }
        default: true
        }
    }

    /// Whether Foundation's `Any` tree means the same as `value`.
    static func matches(_ value: JSONValue, _ other: Any) -> Bool {
        switch value {
        case .null:
            return other is NSNull
        case .bool(let flag):
            // Foundation's booleans are NSNumbers of C type "c"; plain numbers must not be mistaken for them.
            guard let foundation = other as? NSNumber, String(cString: foundation.objCType) == "c" else { return false }
            return foundation.boolValue == flag
        case .number(let number):
            guard let foundation = other as? NSNumber, String(cString: foundation.objCType) != "c" else { return false }
            if let integer = number.int64 {
                return foundation.int64Value == integer
            }
            // Foundation keeps long literals as decimals, whose doubleValue is not correctly rounded.
            if let decimal = foundation as? NSDecimalNumber {
                return decimal.decimalValue == Decimal(string: number.literal)
            }
            return foundation.doubleValue == number.double
        case .string(let string):
            return (other as? String) == string
        case .array(let elements):
            guard let others = other as? [Any], others.count == elements.count else { return false }
            return zip(elements, others).allSatisfy { matches($0, $1) }
        case .object(let object):
            guard let others = other as? [String: Any], others.count == object.count else { return false }
            return object.members.allSatisfy { member in others[member.key].map { matches(member.value, $0) } ?? false }
        }
    }
}
