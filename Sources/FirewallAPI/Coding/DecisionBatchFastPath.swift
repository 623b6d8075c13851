import FirewallSessions

/// A direct decoder for the usual `POST /decisions/batch` body, straight from its bytes.
///
/// A batch carries up to 10,000 decisions, and building a JSON tree of them (then a `String` per
/// value) costs more than deciding them. This reads the common shape without either:
/// `{"decisions": [{"protocol": "tcp", "direction": "inbound", "source": "...", "destination": "..."}, ...]}`
/// with the members in any order and any JSON whitespace. It only ever *accepts*: on anything else
/// (an escape in a string, an unknown or repeated member, another type, a bad address, an outbound
/// TCP query, too many items) it returns nil and the handler decodes the body the general, strict
/// way, which produces the same queries for what this accepts and the exact error for the rest.
enum DecisionBatchFastPath {
    /// The queries of `body`, or nil when the general decoder must handle it.
    static func decode(_ body: [UInt8], maxItems: Int) -> [DecisionQuery]? {
        var reader = Reader(bytes: body[...])
        guard reader.consume(ASCII.openBrace), reader.string() == Self.decisionsKey, reader.consume(ASCII.colon),
            reader.consume(ASCII.openBracket)
        else { return nil }
        var queries: [DecisionQuery] = []
        if reader.consume(ASCII.closeBracket) {
            return reader.finishDocument() ? queries : nil
        }
        queries.reserveCapacity(min(body.count / 96, maxItems))
        repeat {
            guard queries.count < maxItems, let query = reader.query() else { return nil }
            queries.append(query)
        } while reader.consume(ASCII.comma)
        guard reader.consume(ASCII.closeBracket), reader.finishDocument() else { return nil }
        return queries
    }

    private static let decisionsKey = Array("decisions".utf8)[...]

    /// The member names and values compared against, as bytes (comparing with a `String`'s UTF-8
    /// view goes through its iterator, several times slower).
    private enum Literal {
        static let protocolKey = Array("protocol".utf8)[...]
        static let direction = Array("direction".utf8)[...]
        static let source = Array("source".utf8)[...]
        static let destination = Array("destination".utf8)[...]
        static let tcp = Array("tcp".utf8)[...]
        static let udp = Array("udp".utf8)[...]
        static let inbound = Array("inbound".utf8)[...]
        static let outbound = Array("outbound".utf8)[...]
    }

    private enum ASCII {
        static let openBrace = UInt8(ascii: "{")
        static let closeBrace = UInt8(ascii: "}")
        static let openBracket = UInt8(ascii: "[")
        static let closeBracket = UInt8(ascii: "]")
        static let colon = UInt8(ascii: ":")
        static let comma = UInt8(ascii: ",")
        static let quote = UInt8(ascii: "\"")
        static let backslash = UInt8(ascii: "\\")
    }

    /// A cursor over the body.
    private struct Reader {
        let bytes: ArraySlice<UInt8>
        var position: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            position = bytes.startIndex
        }

        /// Skips JSON whitespace, then takes `byte` if it is next.
        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard position < bytes.endIndex, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// The object closes the document: only whitespace may follow.
        mutating func finishDocument() -> Bool {
            guard consume(ASCII.closeBrace) else { return false }
            skipWhitespace()
            return position == bytes.endIndex
        }

        /// A string's bytes without its quotes; nil for escapes, control characters or non-ASCII
        /// (never in the values this path accepts; the general decoder judges those).
        mutating func string() -> ArraySlice<UInt8>? {
            guard consume(ASCII.quote) else { return nil }
            let start = position
            while position < bytes.endIndex {
                let byte = bytes[position]
                if byte == ASCII.quote {
                    position += 1
                    return bytes[start..<(position - 1)]
                }
                guard byte >= 0x20, byte < 0x80, byte != ASCII.backslash else { return nil }
                position += 1
            }
            return nil
        }

        /// One decision object with exactly the four members, each once.
        mutating func query() -> DecisionQuery? {
            guard consume(ASCII.openBrace) else { return nil }
            var transport: TransportProtocol?
            var direction: TrafficDirection?
            var source: SocketAddress?
            var destination: SocketAddress?
            for index in 0..<4 {
                guard index == 0 || consume(ASCII.comma), let key = string(), consume(ASCII.colon),
                    let value = string()
                else { return nil }
                switch key.count {
                case 8 where transport == nil && key == Literal.protocolKey:
                    if value == Literal.tcp {
                        transport = .tcp
                    } else if value == Literal.udp {
                        transport = .udp
                    } else {
                        return nil
                    }
                case 9 where direction == nil && key == Literal.direction:
                    if value == Literal.inbound {
                        direction = .inbound
                    } else if value == Literal.outbound {
                        direction = .outbound
                    } else {
                        return nil
                    }
                case 6 where source == nil && key == Literal.source:
                    guard case .success(let address) = SocketAddress.parse(utf8: value) else { return nil }
                    source = address
                case 11 where destination == nil && key == Literal.destination:
                    guard case .success(let address) = SocketAddress.parse(utf8: value) else { return nil }
                    destination = address
                default:
                    return nil
                }
            }
            guard consume(ASCII.closeBrace), let transport, let direction, let source, let destination else {
                return nil
            }
            return try? DecisionQuery(transport: transport, direction: direction, source: source, destination: destination)
        }

        private mutating func skipWhitespace() {
            while position < bytes.endIndex {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }
    }
}
