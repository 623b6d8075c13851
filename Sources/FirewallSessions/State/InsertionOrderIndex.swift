/// Keys in creation order, for cursor pagination that does not sort on every request.
///
/// Entries are appended with increasing sequence numbers, so the array stays sorted by sequence
/// and a cursor (the last sequence seen) is found by binary search. Removal leaves a tombstone;
/// the array is compacted when tombstones outnumber live entries.
public struct InsertionOrderIndex<Key: Hashable & Sendable>: Sendable {
    private var sequences: [UInt64] = []
    private var keys: [Key?] = []
    private var tombstones = 0

    /// An empty index.
    public init() {}

    /// Live entries.
    public var count: Int { keys.count - tombstones }

    /// Appends `key`; a sequence below the last one (an array node adopting or mirroring another
    /// node's sessions, numbered from other id blocks) is inserted in its place instead.
    public mutating func append(_ key: Key, sequence: UInt64) {
        if let last = sequences.last, last >= sequence {
            let index = firstIndex(notBelow: sequence)
            if index < sequences.count, sequences[index] == sequence {
                // The tombstone of the same entry (a mirrored session that moved and came back).
                precondition(keys[index] == nil, "sequences must be unique")
                keys[index] = key
                tombstones -= 1
                return
            }
            sequences.insert(sequence, at: index)
            keys.insert(key, at: index)
            return
        }
        sequences.append(sequence)
        keys.append(key)
    }

    /// Removes the entry with `sequence`, if present.
    public mutating func remove(sequence: UInt64) {
        let index = firstIndex(notBelow: sequence)
        guard index < sequences.count, sequences[index] == sequence, keys[index] != nil else { return }
        keys[index] = nil
        tombstones += 1
        if tombstones > 1024 && tombstones * 2 > keys.count { compact() }
    }

    /// Up to `limit` keys after the cursor that satisfy `include`, and the cursor for the next page
    /// (nil when no included key follows).
    public func page(after cursor: UInt64?, limit: Int, where include: (Key) -> Bool) -> (keys: [Key], next: UInt64?) {
        var result: [Key] = []
        result.reserveCapacity(min(limit, 128))
        var lastSequence: UInt64 = 0
        var index = cursor.map { firstIndex(after: $0) } ?? 0
        while index < keys.count {
            if let key = keys[index], include(key) {
                if result.count == limit { return (result, lastSequence) }
                result.append(key)
                lastSequence = sequences[index]
            }
            index += 1
        }
        return (result, nil)
    }

    /// The first index whose sequence is greater than `sequence`.
    private func firstIndex(after sequence: UInt64) -> Int {
        sequence == .max ? sequences.count : firstIndex(notBelow: sequence + 1)
    }

    /// The first index whose sequence is at least `sequence` (binary search).
    private func firstIndex(notBelow sequence: UInt64) -> Int {
        var low = 0
        var high = sequences.count
        while low < high {
            let middle = (low + high) / 2
            if sequences[middle] < sequence { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private mutating func compact() {
        var newSequences: [UInt64] = []
        var newKeys: [Key?] = []
        newSequences.reserveCapacity(count)
        newKeys.reserveCapacity(count)
        for (sequence, key) in zip(sequences, keys) where key != nil {
            newSequences.append(sequence)
            newKeys.append(key)
        }
        sequences = newSequences
        keys = newKeys
        tombstones = 0
    }
}
