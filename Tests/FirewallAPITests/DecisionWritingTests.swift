import FirewallSessions
import StrictJSON
import Testing

@testable import FirewallAPI

/// The batch encoder's shortcut writes exactly what the general per-decision writer writes.
@Suite("Decision writing")
struct DecisionWritingTests {
    static func general(_ decisions: [Decision]) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        for decision in decisions { writer.decision(decision) }
        writer.endArray()
        return writer.text
    }

    static func fast(_ decisions: [Decision]) -> String {
        var writer = JSONWriter()
        writer.decisions(decisions)
        return writer.text
    }

    @Test("every verdict and reason, with and without ids, as the general writer has them")
    func sameBytes() throws {
        var decisions: [Decision] = []
        for reason in DecisionReason.allCases {
            for verdict in Verdict.allCases {
                decisions.append(Decision(verdict: verdict, reason: reason, sessionID: nil, bindID: nil))
                decisions.append(Decision(verdict: verdict, reason: reason, sessionID: "s-7.a_B", bindID: BindID(rawValue: 12)))
                decisions.append(Decision(verdict: verdict, reason: reason, sessionID: "x", bindID: BindID(rawValue: .max)))
            }
        }
        #expect(Self.fast(decisions) == Self.general(decisions))
        #expect(Self.fast([]) == "[]")
        _ = try JSONParser.parse(Array(Self.fast(decisions).utf8))
    }

    @Test("an id that would need escaping takes the general path")
    func escaping() {
        let odd = [Decision(verdict: .accept, reason: .allowed, sessionID: "a\"b\\c", bindID: BindID(rawValue: 1))]
        #expect(Self.fast(odd) == Self.general(odd))
    }
}
