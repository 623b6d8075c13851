import Dispatch
import Synchronization

/// Builds the address index of a large restored state on a second core while the caller fills the
/// other tables: with a million binds each half takes about as long, so a restart is ready sooner.
///
/// The only concurrency in the domain, and only at start-up: the binds are an immutable array, the
/// index is handed over through a mutex, and the caller blocks on a semaphore only for what is left
/// of the build when its own half is done. The builder runs on a Dispatch thread, never on the
/// Swift-concurrency pool the caller may be blocking.
final class AddressIndexBuild: Sendable {
    /// Below this many binds the index is built inline; a thread would cost more than it saves.
    static let threshold = 50_000

    private let built = Mutex<BindAddressIndex?>(nil)
    private let done = DispatchSemaphore(value: 0)

    /// Starts indexing `binds`, in order.
    init(_ binds: [Bind]) {
        DispatchQueue.global().async { [self] in
            var index = BindAddressIndex()
            index.reserveCapacity(binds.count)
            for bind in binds { index.insert(bind.id, bind.transport, bind.address) }
            built.withLock { $0 = index }
            done.signal()
        }
    }

    /// The index, once built.
    func wait() -> BindAddressIndex {
        done.wait()
        return built.withLock { $0.take()! }
    }
}
