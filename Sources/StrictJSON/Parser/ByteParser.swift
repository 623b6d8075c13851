/// The parser's working state: a cursor over the input plus explicit stacks standing in for recursion.
///
/// Open containers live on heap stacks rather than the call stack, so nesting is bounded only by `maxDepth`, never
/// by the size of the calling thread's stack: `[[[[…` 100,000 deep is an error, not a crash, whatever the limit.
/// Children of every open container share one `values` (and one `keys`) stack; a container's run starts at its
/// frame's offsets and is cut off when the container closes, which keeps each value moved once and avoids
/// copy-on-write traps with arrays nested inside enum payloads.
struct ByteParser {
    /// One open array or object.
    struct Frame {
        /// Whether this is an object (else an array).
        let isObject: Bool
        /// Where this container's children start in `values`.
        let valueStart: Int
        /// Where this object's keys start in `keys`.
        let keyStart: Int
        /// The object's keys as a set, built only once it has `linearKeyScanLimit` members: small objects (all
        /// real request bodies) are cheaper to scan, but a hostile body with 100,000 keys must not cost O(n²).
        var keySet: Set<String> = []
    }

    /// Objects up to this many members check for duplicate keys by scanning.
    static let linearKeyScanLimit = 16

    /// The document.
    let input: UnsafeBufferPointer<UInt8>
    /// The deepest nesting of arrays and objects allowed.
    let maxDepth: Int
    /// The next byte to read.
    var index = 0
    /// Open containers, innermost last.
    var frames: [Frame] = []
    /// Finished children of all open containers.
    var values: [JSONValue] = []
    /// Keys of all open objects; an object's member `i` is `keys[keyStart + i]`, `values[valueStart + i]`.
    var keys: [String] = []

    /// Prepares to parse `input`, allowing `maxDepth` levels of nesting.
    init(input: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.input = input
        self.maxDepth = maxDepth
        // Enough for a typical request body without regrowing the stacks element by element.
        frames.reserveCapacity(8)
        values.reserveCapacity(16)
        keys.reserveCapacity(16)
    }

    /// Parses the whole input as exactly one value with optional surrounding whitespace.
    mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard index < input.count else { throw JSONSyntaxError(offset: index, reason: "empty body") }
        nextValue: while true {
            // A value starts at `index` (whitespace skipped). Scalars complete here; containers are opened and the
            // loop comes back for their first child.
            guard index < input.count else { throw unexpectedEnd() }
            var value: JSONValue
            switch input[index] {
            case ASCII.openBrace:
                try open(isObject: true)
                skipWhitespace()
                if index < input.count && input[index] == ASCII.closeBrace {
                    index += 1
                    value = closeInnermost()
                } else {
                    try readKey()
                    continue nextValue
                }
            case ASCII.openBracket:
                try open(isObject: false)
                skipWhitespace()
                if index < input.count && input[index] == ASCII.closeBracket {
                    index += 1
                    value = closeInnermost()
                } else {
                    continue nextValue
                }
            case ASCII.quote:
                value = .string(try readString())
            case ASCII.minus, ASCII.zero...ASCII.nine:
                value = .number(try readNumber())
            case ASCII.lowerT:
                try readLiteral("true")
                value = .bool(true)
            case ASCII.lowerF:
                try readLiteral("false")
                value = .bool(false)
            case ASCII.lowerN:
                try readLiteral("null")
                value = .null
            case let byte:
                throw JSONSyntaxError(offset: index, reason: "unexpected \(ASCII.describe(byte))")
            }

            // `value` is complete: hand it to its container, closing containers whose ends follow.
            while let frame = frames.last {
                values.append(value)
                skipWhitespace()
                guard index < input.count else { throw unexpectedEnd() }
                let closer = frame.isObject ? ASCII.closeBrace : ASCII.closeBracket
                let byte = input[index]
                if byte == ASCII.comma {
                    let comma = index
                    index += 1
                    skipWhitespace()
                    if index < input.count && input[index] == closer {
                        throw JSONSyntaxError(offset: comma, reason: "trailing comma")
                    }
                    if frame.isObject {
                        try readKey()
                    }
                    continue nextValue
                }
                guard byte == closer else {
                    let expected = frame.isObject ? "',' or '}'" : "',' or ']'"
                    throw JSONSyntaxError(offset: index, reason: "unexpected \(ASCII.describe(byte)) (expected \(expected))")
                }
                index += 1
                value = closeInnermost()
            }
            skipWhitespace()
            guard index == input.count else {
                throw JSONSyntaxError(offset: index, reason: "trailing data after the value")
            }
            return value
        }
    }

    /// Skips RFC 8259 whitespace.
    @inline(__always)
    mutating func skipWhitespace() {
        while index < input.count && ASCII.isWhitespace(input[index]) {
            index += 1
        }
    }

    /// The error for input that stops where more was required.
    func unexpectedEnd() -> JSONSyntaxError {
        JSONSyntaxError(offset: input.count, reason: "unexpected end of input")
    }

    /// Opens a container at `index`, enforcing the depth limit before anything is pushed.
    mutating func open(isObject: Bool) throws(JSONSyntaxError) {
        guard frames.count < maxDepth else {
            throw JSONSyntaxError(offset: index, reason: "nesting deeper than \(maxDepth)")
        }
        frames.append(Frame(isObject: isObject, valueStart: values.count, keyStart: keys.count))
        index += 1
    }

    /// Closes the innermost container, moving its children off the shared stacks into the finished value.
    mutating func closeInnermost() -> JSONValue {
        let frame = frames.removeLast()
        if frame.isObject {
            var members: [(key: String, value: JSONValue)] = []
            members.reserveCapacity(values.count - frame.valueStart)
            for offset in 0..<(values.count - frame.valueStart) {
                members.append((key: keys[frame.keyStart + offset], value: values[frame.valueStart + offset]))
            }
            keys.removeSubrange(frame.keyStart...)
            values.removeSubrange(frame.valueStart...)
            return .object(JSONObject(members))
        }
        let elements = Array(values[frame.valueStart...])
        values.removeSubrange(frame.valueStart...)
        return .array(elements)
    }

    /// Reads `"key" :` for the innermost object, rejecting a key it already has.
    mutating func readKey() throws(JSONSyntaxError) {
        guard index < input.count else { throw unexpectedEnd() }
        guard input[index] == ASCII.quote else {
            throw JSONSyntaxError(offset: index, reason: "unexpected \(ASCII.describe(input[index])) (expected a string key)")
        }
        let keyOffset = index
        let key = try readString()
        let top = frames.count - 1
        let keyStart = frames[top].keyStart
        let existing = keys.count - keyStart
        var isDuplicate = false
        if existing < Self.linearKeyScanLimit {
            for other in keys[keyStart...] where other == key {
                isDuplicate = true
                break
            }
        } else {
            if existing == Self.linearKeyScanLimit {
                frames[top].keySet = Set(keys[keyStart...])
            }
            isDuplicate = !frames[top].keySet.insert(key).inserted
        }
        if isDuplicate {
            throw JSONSyntaxError(offset: keyOffset, reason: "duplicate key \(Self.quoted(key))")
        }
        keys.append(key)
        skipWhitespace()
        guard index < input.count else { throw unexpectedEnd() }
        guard input[index] == ASCII.colon else {
            throw JSONSyntaxError(offset: index, reason: "unexpected \(ASCII.describe(input[index])) (expected ':')")
        }
        index += 1
        skipWhitespace()
    }

    /// Reads a number starting at `index`.
    mutating func readNumber() throws(JSONSyntaxError) -> JSONNumber {
        switch NumberGrammar.scan(input, from: index) {
        case .number(let end):
            let literal = String(decoding: UnsafeBufferPointer(rebasing: input[index..<end]), as: UTF8.self)
            index = end
            return JSONNumber(literal: literal)
        case .invalid(let offset, let reason):
            throw JSONSyntaxError(offset: offset, reason: reason)
        }
    }

    /// Reads `true`, `false` or `null`, whose first byte the caller has matched.
    mutating func readLiteral(_ word: StaticString) throws(JSONSyntaxError) {
        let length = word.utf8CodeUnitCount
        let start = word.utf8Start
        for offset in 1..<length {
            guard index + offset < input.count else { throw unexpectedEnd() }
            let byte = input[index + offset]
            guard byte == start[offset] else {
                throw JSONSyntaxError(offset: index + offset, reason: "unexpected \(ASCII.describe(byte))")
            }
        }
        index += length
    }

    /// A key quoted for an error message, shortened so a hostile megabyte-long key does not come back in full.
    static func quoted(_ key: String) -> String {
        var writer = JSONWriter(reservingCapacity: 72)
        // Cut by scalars, not characters: a string of combining marks is one huge character.
        writer.string(key.utf8.count > 64 ? String(key.unicodeScalars.prefix(61)) + "..." : key)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
