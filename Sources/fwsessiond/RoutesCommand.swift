import ArgumentParser
import FirewallAPI
import FirewallPersistence
import FirewallService
import FirewallSessions
import Logging

/// `fwsessiond routes`: prints the route table (method, path template, operationId), one per
/// line, so the contract test can compare it with openapi.yaml.
struct RoutesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes", abstract: "Print the served operations: METHOD PATH operationId.")

    func run() throws {
        let service = try FirewallService(persistence: MemoryBackend(), logger: Logger(label: "routes"))
        for route in FirewallRoutes.make(service: service, settings: FirewallSettings(), metrics: FirewallMetrics(), events: EventHub(settings: EventStreamSettings())) {
            print("\(route.method) \(route.template) \(route.operationID)")
        }
    }
}
