import ArgumentParser
import FirewallAPI
import FirewallSessions

/// `fwsessiond token create`: makes a bearer token.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage bearer tokens.", subcommands: [Create.self])

    /// Prints a new random token once, and the configuration entry that holds only its hash.
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new token (once) and the JSON entry to paste into \"tokens\".")

        @Option(help: "viewer (GET only), filter (sessions, binds, retroactive-binds, decisions, IP filters) or admin.")
        var role: String

        @Option(help: "A name for logs, e.g. ftp-helper (1-64 characters, no spaces).")
        var name: String

        func run() throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role must be viewer, filter or admin")
            }
            guard !name.isEmpty, name.count <= 64, name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
                throw ValidationError("--name must be 1 to 64 printable characters without spaces")
            }
            let token = AccessToken.generate()
            let digest = Hex.string(AccessToken.digest(token))
            print(token)
            print(#"{"name": "\#(name)", "role": "\#(role.rawValue)", "sha256": "\#(digest)"}"#)
            printToStandardError(
                "The first line is the token: give it to the client now, it is not stored anywhere.\n"
                    + "The second line goes into \"tokens\" in the configuration file.")
        }
    }
}
