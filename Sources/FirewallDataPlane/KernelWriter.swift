import CNetfilterGlue
import FirewallPipeline

#if canImport(Glibc)
import Glibc
#endif

/// Writes elements of fwsessiond's table over netlink, many per message and every batch as one
/// kernel transaction. The per-batch path of the data plane: it skips libnftables' parsing of
/// text and its cache of the ruleset, which cost most of a small transaction.
///
/// Owned by the data plane's pipeline thread (its socket is not shared with the readers, so a
/// large batch never holds up a read of counters).
final class KernelWriter {
    private let handle: OpaquePointer
    private let table: String
    /// C strings of the set names, made once: the elements point at them during a call.
    private var names: [String: UnsafeMutablePointer<CChar>] = [:]

    init(table: String) throws(SinkError) {
        var error: Int32 = 0
        guard let handle = fws_nl_open(&error) else { throw KernelReader.socketError(error) }
        self.handle = handle
        self.table = table
    }

    deinit {
        fws_nl_close(handle)
        for name in names.values { free(name) }
    }

    /// Deletes, then adds, as one transaction, in the sets of `generation`.
    func apply(deleting deletions: [ElementOperation], adding additions: [ElementOperation], in generation: Generation)
        throws(SinkError)
    {
        guard !deletions.isEmpty || !additions.isEmpty else { return }
        let all = deletions + additions
        // Every key in one buffer, so the element array can point into it during the call.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(all.reduce(0) { $0 + $1.element.key.count + ($1.element.keyEnd?.count ?? 0) })
        var offsets: [(key: Int, end: Int?)] = []
        offsets.reserveCapacity(all.count)
        for operation in all {
            let key = bytes.count
            bytes += operation.element.key
            var end: Int?
            if let keyEnd = operation.element.keyEnd {
                end = bytes.count
                bytes += keyEnd
            }
            offsets.append((key, end))
        }
        let setNames = all.map { $0.element.set(in: generation) }
        for name in setNames where names[name] == nil { names[name] = strdup(name) }
        var failed: Int64 = -1
        let result: Int32 = bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress
            var elements = all.enumerated().map { index, operation in
                fws_element(
                    set: names[setNames[index]], key: base.map { $0 + offsets[index].key },
                    key_length: UInt32(operation.element.key.count),
                    key_end: offsets[index].end.flatMap { end in base.map { $0 + end } },
                    key_end_length: UInt32(operation.element.keyEnd?.count ?? 0), packets: operation.packets)
            }
            return elements.withUnsafeMutableBufferPointer { elements in
                fws_nl_apply_elements(
                    handle, KernelReader.inetFamily, table, elements.baseAddress, UInt32(deletions.count),
                    elements.baseAddress.map { $0 + deletions.count }, UInt32(additions.count), &failed)
            }
        }
        guard result < 0 else { return }
        let reason = String(cString: strerror(-result))
        let what = failed >= 0 && Int(failed) < all.count
            ? "\(failed < deletions.count ? "deleting" : "adding") \(all[Int(failed)].element.text) in \(setNames[Int(failed)])"
            : "the batch"
        if -result == EPERM {
            throw SinkError("\(what): \(reason): the nftables data plane needs CAP_NET_ADMIN (root, or under systemd "
                + "the drop-in deploy/fwsessiond-dataplane.conf)")
        }
        throw SinkError("the kernel refused \(what): \(reason)")
    }
}
