import CNFTables
import FirewallPipeline

/// One libnftables context: commands in, errors out.
///
/// libnftables' context is not thread-safe (one shared by two threads crashed in tests here,
/// DATAPLANE.md), so the data plane creates one and uses it only on the pipeline's data plane thread.
final class NFTContext: @unchecked Sendable {
    // @unchecked: only the data plane's pipeline thread touches it (start, apply, maintain, finish).
    private let context: OpaquePointer

    /// A context whose output and errors are kept in buffers instead of going to stdout/stderr.
    init() throws(SinkError) {
        guard let context = nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else { throw SinkError("libnftables: nft_ctx_new failed") }
        nft_ctx_buffer_output(context)
        nft_ctx_buffer_error(context)
        self.context = context
    }

    deinit { nft_ctx_free(context) }

    /// Runs `commands` as one kernel transaction: all of it holds afterwards, or none of it.
    @discardableResult
    func run(_ commands: String) throws(SinkError) -> String {
        let status = nft_run_cmd_from_buffer(context, commands)
        let output = nft_ctx_get_output_buffer(context).map { String(cString: $0) } ?? ""
        if status != 0 {
            let error = nft_ctx_get_error_buffer(context).map { String(cString: $0) } ?? "unknown error"
            throw SinkError(Self.summary(of: error))
        }
        return output
    }

    /// The first lines of an nft error (it echoes the whole offending command, which can be huge).
    static func summary(of error: String) -> String {
        let lines = error.split(separator: "\n", omittingEmptySubsequences: true).prefix(3)
        return lines.map { $0.count > 300 ? $0.prefix(300) + "…" : Substring($0) }.joined(separator: " | ")
    }
}
