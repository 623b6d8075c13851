import FirewallPipeline
import FirewallSessions

/// Builds the address index of a large restored state on a thread of its own while the restore
/// fills the other tables: with a million binds each half takes about as long, so a restart is
/// ready sooner. The domain only hands over the binds and later asks for the result
/// (`FirewallState(restoring:settings:addressIndex:)`); the thread and the wait live here.
///
/// The wait blocks the restoring thread until the build is done, so a restore must not run on
/// the cooperative pool (`FirewallService.init`).
enum AddressIndexBuild {
    /// Below this many binds the index is built inline; a thread would cost more than it saves.
    static let threshold = 50_000

    /// The builder for a restore of `bindCount` binds, or nil to build inline.
    static func builder(bindCount: Int) -> ((_ bindsInIDOrder: [Bind]) -> () -> BindAddressIndex)? {
        guard bindCount >= threshold else { return nil }
        return { binds in
            let result = BuiltIndex()
            startThread { result.set(BindAddressIndex(indexing: binds)) }
            return { result.wait() }
        }
    }

    /// The index, handed from the building thread to the restoring one.
    private final class BuiltIndex: @unchecked Sendable {
        // @unchecked: `index` is only touched with `lock` held.
        private let lock = ConditionLock()
        private var index: BindAddressIndex?

        func set(_ built: BindAddressIndex) {
            lock.withLock {
                index = built
                lock.broadcast()
            }
        }

        func wait() -> BindAddressIndex {
            lock.withLock {
                while index == nil { lock.wait() }
                return index.take()!
            }
        }
    }
}
