import ArgumentParser

/// The `fwsessiond` command.
@main
struct FWSessiond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fwsessiond",
        abstract: "HTTP/JSON control plane for firewall sessions and RetroactiveAllowBind.",
        subcommands: [ServeCommand.self, TokenCommand.self, RoutesCommand.self],
        defaultSubcommand: ServeCommand.self)
}
