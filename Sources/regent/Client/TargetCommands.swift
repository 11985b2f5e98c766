import ArgumentParser
import Foundation
import RegentAPI

/// `regent targets`: the connector instances. Secrets are given as `--secret NAME` and read from a
/// prompt (or `--secret NAME=VALUE` in scripts); they are write-only and never printed.
struct Targets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, add and change targets (PostgreSQL, SSH, sudo, webhook).",
        subcommands: [List.self, Add.self, Update.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List targets (administrators, security readers).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let output = try await options.client().listTargets(query: .init(limit: 500))
            guard case .ok(let ok) = output, case .json(let page) = ok.body else { throw refusal(output) }
            if options.json { return try printJSON(page.items) }
            printTable(
                ["NAME", "KIND", "SCOPE", "CONFIG", "SECRETS", "ID"],
                page.items.map {
                    [
                        $0.name, $0.kind.rawValue, $0.scope,
                        $0.config.additionalProperties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                            .joined(separator: " "),
                        $0.secretNames.joined(separator: ","), $0.id,
                    ]
                })
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a target (administrators).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "postgres, ssh, sudo, ldap or webhook.") var kind: String
        @Argument(help: "Unique name.") var name: String
        @Option(help: "Scope the target serves.") var scope = "/"
        @Option(help: "A setting, NAME=VALUE (repeatable), e.g. dsn=postgres://regent@db:5432/app.")
        var config: [String] = []
        @Option(help: "A secret NAME (prompted) or NAME=VALUE (repeatable).") var secret: [String] = []

        func run() async throws {
            guard let kind = Components.Schemas.TargetCreate.KindPayload(rawValue: kind) else {
                throw Regent.fail("unknown kind \(kind); use postgres, ssh, sudo, ldap or webhook")
            }
            let output = try await options.client().createTarget(
                body: .json(
                    .init(
                        kind: kind, name: name, scope: scope, config: .init(additionalProperties: try pairs(config)),
                        secrets: .init(additionalProperties: try secrets(secret)))))
            guard case .created(let created) = output, case .json(let target) = created.body else {
                throw refusal(output)
            }
            if options.json { return try printJSON(target) }
            print("target \(target.name) (\(target.kind.rawValue)) \(target.id)")
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a target's scope, replace its settings or its secrets (administrators).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Target id.") var id: String
        @Option(help: "New scope.") var scope: String?
        @Option(help: "The whole new configuration, NAME=VALUE (repeatable).") var config: [String] = []
        @Option(help: "The whole new set of secrets, NAME (prompted) or NAME=VALUE (repeatable).")
        var secret: [String] = []

        func run() async throws {
            let output = try await options.client().updateTarget(
                path: .init(targetId: id),
                body: .json(
                    .init(
                        scope: scope, config: config.isEmpty ? nil : .init(additionalProperties: try pairs(config)),
                        secrets: secret.isEmpty ? nil : .init(additionalProperties: try secrets(secret)))))
            guard case .ok(let ok) = output, case .json(let target) = ok.body else { throw refusal(output) }
            if options.json { return try printJSON(target) }
            print("target \(target.name) updated; secrets set: \(target.secretNames.joined(separator: ","))")
        }
    }
}

private func pairs(_ items: [String]) throws -> [String: String] {
    var result: [String: String] = [:]
    for item in items {
        guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
            throw Regent.fail("'\(item)' is not NAME=VALUE")
        }
        result[String(item[..<equals])] = String(item[item.index(after: equals)...])
    }
    return result
}

private func secrets(_ items: [String]) throws -> [String: String] {
    var result: [String: String] = [:]
    for item in items {
        if item.contains("=") {
            result.merge(try pairs([item])) { $1 }
        } else {
            result[item] = readSecret("\(item): ")
        }
    }
    return result
}
