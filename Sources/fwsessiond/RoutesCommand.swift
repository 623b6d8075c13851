import ArgumentParser
import FirewallAPI
import FirewallService
import FirewallSessions
import Logging

/// `fwsessiond routes`: prints the route table (method, path template, operationId), one per
/// line, so the contract test can compare it with openapi.yaml.
struct RoutesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes", abstract: "Print the served operations: METHOD PATH operationId.")

    func run() throws {
        let logger = Logger(label: "routes")
        let service = FirewallService(logger: logger)
        let routes = FirewallRoutes.make(
            service: service, settings: FirewallSettings(), metrics: FirewallMetrics(),
            events: EventHub(settings: EventStreamSettings()), audit: AuditLog(logger: logger))
        for route in routes {
            print("\(route.method) \(route.template) \(route.operationID)")
        }
    }
}
