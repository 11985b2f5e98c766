import ArgumentParser
import Foundation
import OpenAPIRuntime
import RegentAPI

/// `regent report assignments`: who holds which role where, exported to a file.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reports, exported as CSV, JSON Lines, XLSX or PDF.", subcommands: [Assignments.self])

    struct Assignments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Eligible and active assignments with their end and last activation (administrators, security readers)."
        )
        @OptionGroup var options: ClientOptions
        @Option(help: "The file to write.") var output: String
        @Option(help: "csv, jsonl, xlsx or pdf (default: from the file's extension).") var format: String?
        @Option(help: "Only this role (name or id).") var role: String?
        @Option(help: "Only this principal (name or id).") var principal: String?
        @Option(help: "Only eligible or active assignments.") var kind: String?

        func run() async throws {
            let format = try exportFormat(format, path: output)
            let kind = try kind.map { text in
                guard let value = Operations.ReportAssignments.Input.Query.KindPayload(rawValue: text) else {
                    throw Regent.fail("--kind is eligible or active")
                }
                return value
            }
            let answer = try await options.client().reportAssignments(
                query: .init(format: format, role: role, principal: principal, kind: kind))
            guard case .ok(let ok) = answer else { throw refusal(answer) }
            let body: HTTPBody =
                switch ok.body {
                case .csv(let body), .applicationXNdjson(let body),
                    .applicationVnd_openxmlformatsOfficedocument_spreadsheetml_sheet(let body), .pdf(let body):
                    body
                }
            try await writeExport(body, to: output)
        }
    }
}

/// The format asked for, or the one the file's extension names.
func exportFormat(_ given: String?, path: String) throws -> Components.Parameters.ExportFormat {
    let text = given ?? URL(fileURLWithPath: path).pathExtension.lowercased()
    guard let format = Components.Parameters.ExportFormat(rawValue: text == "ndjson" ? "jsonl" : text) else {
        throw Regent.fail("say --format csv, jsonl, xlsx or pdf (or name the file with that extension)")
    }
    return format
}

/// Writes an export readable by its owner only: it holds who did what.
func writeExport(_ body: HTTPBody, to path: String) async throws {
    let data = try await Data(collecting: body, upTo: 512 * 1024 * 1024)
    guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
        throw Regent.fail("cannot write \(path)")
    }
    print("wrote \(data.count) bytes to \(path)")
}
