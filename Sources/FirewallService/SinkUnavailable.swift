import FirewallPipeline
import FirewallSessions

extension FirewallError {
    /// A change that could not be made to hold in a sink: 503 ERROR_WRITE_FAULT, with a detail
    /// that names the sink so the operator knows where to look.
    public static func unavailable(_ failure: PipelineFailure) -> FirewallError {
        let what = switch failure.sink {
        case "store": "the durable store cannot be written"
        case "dataplane": "the kernel's firewall table cannot be updated"
        default: "the \(failure.sink) cannot be updated"
        }
        return FirewallError(.ERROR_WRITE_FAULT, "\(what): \(failure.message)")
    }
}
