/// Appends JSON to a byte buffer with commas handled for you; keys come out in the order written.
///
/// Built for hot responses: no `Encodable` reflection, no dictionary (so no random key order), no intermediate
/// `String`. Call `key(_:)` then exactly one value call inside objects; call value methods directly inside arrays;
/// write exactly one top-level value. Misuse is a programmer error: debug builds assert on it, release builds
/// produce invalid JSON rather than paying for the bookkeeping.
///
/// ```swift
/// var json = JSONWriter()
/// json.beginObject()
/// json.field("id", session.id)
/// json.key("ports"); json.beginArray(); json.int(80); json.int(443); json.endArray()
/// json.endObject()
/// send(json.bytes)
/// ```
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public private(set) var bytes: [UInt8]

    /// Whether the next key or value at the current level needs a comma before it.
    private var needsComma = false

    #if DEBUG
    /// Open containers, innermost last (`true` for objects), to check calls are balanced and keyed correctly.
    private var openContainers: [Bool] = []
    /// Whether a key has been written and its value not yet.
    private var awaitingValue = false
    /// Whether the single top-level value has been completed.
    private var isComplete = false
    #endif

    /// Creates an empty writer with room for `reservingCapacity` bytes before it must grow.
    public init(reservingCapacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(reservingCapacity)
    }

    /// Starts an object, as a value.
    public mutating func beginObject() {
        willWriteValue()
        bytes.append(ASCII.openBrace)
        needsComma = false
        #if DEBUG
        openContainers.append(true)
        #endif
    }

    /// Ends the innermost object.
    public mutating func endObject() {
        #if DEBUG
        assert(openContainers.last == true, "JSONWriter.endObject() without a matching beginObject()")
        assert(!awaitingValue, "JSONWriter.endObject() right after key(_:) with no value")
        openContainers.removeLast()
        #endif
        bytes.append(ASCII.closeBrace)
        didWriteValue()
    }

    /// Starts an array, as a value.
    public mutating func beginArray() {
        willWriteValue()
        bytes.append(ASCII.openBracket)
        needsComma = false
        #if DEBUG
        openContainers.append(false)
        #endif
    }

    /// Ends the innermost array.
    public mutating func endArray() {
        #if DEBUG
        assert(openContainers.last == false, "JSONWriter.endArray() without a matching beginArray()")
        openContainers.removeLast()
        #endif
        bytes.append(ASCII.closeBracket)
        didWriteValue()
    }

    /// Writes a member name inside an object; exactly one value call must follow.
    public mutating func key(_ name: String) {
        #if DEBUG
        assert(openContainers.last == true, "JSONWriter.key(_:) outside an object")
        assert(!awaitingValue, "JSONWriter.key(_:) twice without a value")
        awaitingValue = true
        #endif
        if needsComma {
            bytes.append(ASCII.comma)
        }
        appendQuoted(name)
        bytes.append(ASCII.colon)
        needsComma = false
    }

    /// Writes a string value, escaped.
    public mutating func string(_ value: String) {
        willWriteValue()
        appendQuoted(value)
        didWriteValue()
    }

    /// Writes a string value from any string-like type, e.g. a `Substring`, without copying it to a `String`.
    public mutating func string<S: StringProtocol>(_ value: S) {
        willWriteValue()
        appendQuoted(value)
        didWriteValue()
    }

    /// Writes an integer.
    public mutating func int(_ value: Int) {
        willWriteValue()
        appendDecimal(UInt64(value.magnitude), negative: value < 0)
        didWriteValue()
    }

    /// Writes an integer.
    public mutating func int64(_ value: Int64) {
        willWriteValue()
        appendDecimal(value.magnitude, negative: value < 0)
        didWriteValue()
    }

    /// Writes an unsigned integer.
    public mutating func uint64(_ value: UInt64) {
        willWriteValue()
        appendDecimal(value, negative: false)
        didWriteValue()
    }

    /// Writes a double in its shortest round-trip form; NaN and infinities, which JSON cannot express, as `null`.
    ///
    /// Integral values below 2^53 in magnitude are written without a fraction (`3`, not `3.0`): the same number,
    /// shorter, and what JavaScript clients write too.
    public mutating func double(_ value: Double) {
        willWriteValue()
        if !value.isFinite {
            appendASCII("null")
        } else if value == 0 {
            appendASCII(value.sign == .minus ? "-0" : "0")
        } else if value.magnitude < 0x1p53, Double(Int64(value)) == value {
            // Below 2^53 the conversion cannot overflow and is exact for integral values. (Comparing through Int64
            // rather than `rounded()` also keeps this module free of a libm dependency.)
            let integer = Int64(value)
            appendDecimal(integer.magnitude, negative: integer < 0)
        } else {
            // Swift's description is the shortest round-trip form and always valid JSON for finite values
            // ("0.1", "1e-05", "1.7976931348623157e+308"); the tests check that.
            appendASCII(value.description)
        }
        didWriteValue()
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        willWriteValue()
        appendASCII(value ? "true" : "false")
        didWriteValue()
    }

    /// Writes `null`.
    public mutating func null() {
        willWriteValue()
        appendASCII("null")
        didWriteValue()
    }

    /// Writes a number by its literal, or `null` if the literal is not a JSON number (see `JSONNumber.literal`).
    public mutating func number(_ value: JSONNumber) {
        willWriteValue()
        appendASCII(NumberGrammar.isValid(value.literal) ? value.literal : "null")
        didWriteValue()
    }

    /// Writes a whole value, keeping object members in their order.
    ///
    /// Recurses once per nesting level, which is harmless for anything the parser produced with a sane `maxDepth`.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let elements):
            beginArray()
            for element in elements {
                self.value(element)
            }
            endArray()
        case .object(let object):
            beginObject()
            for member in object.members {
                key(member.key)
                self.value(member.value)
            }
            endObject()
        }
    }

    /// Writes an already-valid JSON fragment (e.g. a cached serialisation) as one value, unchecked in release.
    public mutating func rawJSON(_ fragment: [UInt8]) {
        assert((try? JSONParser.parse(fragment, maxDepth: .max)) != nil, "JSONWriter.rawJSON(_:) given invalid JSON")
        willWriteValue()
        bytes.append(contentsOf: fragment)
        didWriteValue()
    }

    /// Empties the buffer, keeping its capacity, to write another document with the same allocation.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
        #if DEBUG
        openContainers.removeAll()
        awaitingValue = false
        isComplete = false
        #endif
    }

    // MARK: - Separators

    /// Writes the comma a value needs, if any.
    @inline(__always)
    private mutating func willWriteValue() {
        #if DEBUG
        assert(!isComplete, "JSONWriter: a second top-level value")
        assert(openContainers.last != true || awaitingValue, "JSONWriter: a value in an object without key(_:)")
        awaitingValue = false
        #endif
        if needsComma {
            bytes.append(ASCII.comma)
        }
    }

    /// Records that a value was completed at the current level.
    @inline(__always)
    private mutating func didWriteValue() {
        needsComma = true
        #if DEBUG
        isComplete = openContainers.isEmpty
        #endif
    }

    // MARK: - Bytes

    /// Appends text known to be plain ASCII JSON (literals, numbers).
    @inline(__always)
    private mutating func appendASCII(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends an integer's digits without going through `String`.
    private mutating func appendDecimal(_ magnitude: UInt64, negative: Bool) {
        if negative {
            bytes.append(ASCII.minus)
        }
        let start = bytes.count
        var rest = magnitude
        repeat {
            let (quotient, remainder) = rest.quotientAndRemainder(dividingBy: 10)
            bytes.append(ASCII.zero &+ UInt8(truncatingIfNeeded: remainder))
            rest = quotient
        } while rest != 0
        bytes[start...].reverse()
    }

    /// Appends `text` as a quoted, escaped JSON string.
    private mutating func appendQuoted<S: StringProtocol>(_ text: S) {
        bytes.append(ASCII.quote)
        let handled: Void? = text.utf8.withContiguousStorageIfAvailable { utf8 in
            appendEscaped(utf8)
        }
        if handled == nil {
            var copy = String(text)
            copy.withUTF8 { utf8 in
                appendEscaped(utf8)
            }
        }
        bytes.append(ASCII.quote)
    }

    /// Appends UTF-8 with `"`, `\` and control characters escaped; everything else (including non-ASCII and
    /// `/`) is copied as is, in runs, since valid UTF-8 is valid JSON string content.
    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < ASCII.space || byte == ASCII.quote || byte == ASCII.backslash else { continue }
            if runStart < index {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            }
            runStart = index + 1
            bytes.append(ASCII.backslash)
            switch byte {
            case ASCII.quote, ASCII.backslash: bytes.append(byte)
            case ASCII.lineFeed: bytes.append(ASCII.lowerN)
            case ASCII.carriageReturn: bytes.append(ASCII.lowerR)
            case ASCII.tab: bytes.append(ASCII.lowerT)
            case 0x08: bytes.append(ASCII.lowerB)
            case 0x0C: bytes.append(ASCII.lowerF)
            default:
                bytes.append(ASCII.lowerU)
                bytes.append(ASCII.zero)
                bytes.append(ASCII.zero)
                bytes.append(ASCII.hexDigit(byte >> 4))
                bytes.append(ASCII.hexDigit(byte & 0x0F))
            }
        }
        if runStart < utf8.count {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
    }
}
