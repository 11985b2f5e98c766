import ArgumentParser
import Foundation
import RegentAPI
import RegentCore

/// `regent scim-token`: the bearer tokens the organisation's directory provisions users and
/// groups with, at `<server>/scim/v2`. The secret is printed once, at creation.
struct SCIMToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scim-token", abstract: "Create, list and revoke SCIM tokens (regent-admin).",
        subcommands: [Create.self, List.self, Revoke.self], defaultSubcommand: List.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a token for a directory (Okta, Entra ID…); the secret is shown once.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Which directory uses it; its changes are audited as scim:<name>.") var name: String

        func run() async throws {
            let output = try await options.client().createScimToken(body: .json(.init(name: name)))
            guard case .created(let created) = output, case .json(let token) = created.body else {
                throw refusal(output)
            }
            if options.json { return try printJSON(token) }
            print(token.token ?? "")
            FileHandle.standardError.write(
                Data(
                    "SCIM token \(token.name) (\(token.id)): give it to the directory with the URL <server>/scim/v2\n"
                        .utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List SCIM tokens (never their secrets).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let output = try await options.client().listScimTokens()
            guard case .ok(let ok) = output, case .json(let page) = ok.body else { throw refusal(output) }
            if options.json { return try printJSON(page.items) }
            printTable(
                ["NAME", "CREATED", "REVOKED", "ID"],
                page.items.map { [$0.name, $0.createdAt.rfc3339, $0.revokedAt?.rfc3339 ?? "", $0.id] })
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a SCIM token.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Token id.") var id: String

        func run() async throws {
            let output = try await options.client().revokeScimToken(path: .init(tokenId: id))
            guard case .noContent = output else { throw refusal(output) }
            print("revoked SCIM token \(id)")
        }
    }
}
