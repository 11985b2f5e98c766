import ArgumentParser
import Foundation
import OpenAPIRuntime
import RegentAPI

struct Principals: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List users, groups and services (administrators, security readers).")
    @OptionGroup var options: ClientOptions

    func run() async throws {
        let output = try await options.client().listPrincipals(query: .init(limit: 500))
        guard case .ok(let ok) = output, case .json(let page) = ok.body else { throw refusal(output) }
        if options.json { return try printJSON(page.items) }
        printTable(
            ["NAME", "KIND", "ENABLED", "ID"],
            page.items.map { [$0.name, $0.kind.rawValue, $0.enabled ? "yes" : "no", $0.id] })
    }
}

struct Roles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "My eligible and active roles with the time left; --all lists every role.")
    @OptionGroup var options: ClientOptions
    @Flag(help: "Every role, not just mine.") var all = false

    func run() async throws {
        guard all else { return try await mine() }
        let output = try await options.client().listRoles(query: .init(limit: 500))
        guard case .ok(let ok) = output, case .json(let page) = ok.body else { throw refusal(output) }
        if options.json { return try printJSON(page.items) }
        printTable(
            ["NAME", "BUILT-IN", "ENTITLEMENTS", "DESCRIPTION"],
            page.items.map { [$0.name, $0.builtIn ? "yes" : "no", String($0.entitlements.count), $0.description] })
    }

    private func mine() async throws {
        let output = try await options.client().getMyRoles()
        guard case .ok(let ok) = output, case .json(let page) = ok.body else { throw refusal(output) }
        if options.json { return try printJSON(page.items) }
        printTable(
            ["ROLE", "SCOPE", "KIND", "STATE", "TIME LEFT"],
            page.items.map {
                [
                    $0.role, $0.assignment.scope, $0.assignment.kind.rawValue, $0.assignment.state.rawValue,
                    $0.secondsLeft.map { "\($0 / 3600)h\($0 % 3600 / 60)m" } ?? "permanent",
                ]
            })
    }
}

struct AuditLog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Search the audit log on the server, newest first (auditors, security readers, admins).")
    @OptionGroup var options: ClientOptions
    @Option(help: "An action, or a prefix ending in a dot (request.).") var action: String?
    @Option(help: "Actor name or id.") var actor: String?
    @Option(help: "How many events.") var limit = 50
    @Option(help: "Only events with this outcome: success, denied or failed.") var outcome: String?
    @Option(help: "Only events about this role (name or id).") var role: String?
    @Option(help: "Write every matching event (oldest first, with chain hashes) to this file instead.")
    var export: String?
    @Option(help: "The export's format: csv, jsonl, xlsx or pdf (default: from the file's extension).")
    var format: String?

    func run() async throws {
        if let export { return try await exportEvents(to: export) }
        let output = try await options.client().searchAudit(query: .init(limit: limit, actor: actor, action: action))
        guard case .ok(let ok) = output, case .json(let page) = ok.body else { throw refusal(output) }
        if options.json { return try printJSON(page.items) }
        printTable(
            ["SEQ", "TIME", "ACTOR", "ACTION", "OUTCOME", "REASON"],
            page.items.map {
                [
                    String($0.seq), $0.time.formatted(.iso8601), $0.actor.name, $0.action, $0.outcome.rawValue,
                    $0.reason ?? "",
                ]
            })
    }
}

extension AuditLog {
    private func exportEvents(to path: String) async throws {
        let format = try exportFormat(format, path: path)
        let outcome = try outcome.map { text in
            guard let value = Operations.ExportAudit.Input.Query.OutcomePayload(rawValue: text) else {
                throw Regent.fail("--outcome is success, denied or failed")
            }
            return value
        }
        let output = try await options.client().exportAudit(
            query: .init(format: format, actor: actor, action: action, outcome: outcome, role: role))
        guard case .ok(let ok) = output else { throw refusal(output) }
        let body: HTTPBody =
            switch ok.body {
            case .csv(let body), .applicationXNdjson(let body),
                .applicationVnd_openxmlformatsOfficedocument_spreadsheetml_sheet(let body), .pdf(let body):
                body
            }
        try await writeExport(body, to: path)
    }
}
