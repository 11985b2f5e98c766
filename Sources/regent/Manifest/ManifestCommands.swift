import ArgumentParser
import Foundation
import OpenAPIRuntime
import RegentAPI
import RegentCore
import RegentServer
import Yams

/// `regent validate -f PATH`: a manifest checked offline, for pre-commit hooks and CI — its YAML,
/// every document against its kind, and the roles and targets its documents name. Principals
/// are checked by `regent plan`, which knows the directory.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a manifest offline: every problem on its own line as file:document:field.")
    @Option(name: [.customShort("f"), .customLong("file")], help: "A manifest file, or a directory of .yaml files.")
    var path: String

    func run() async throws {
        do {
            let documents = try ManifestFiles.read(path)
            let objects = try await ManifestDocuments.objects(documents.map { ($0.source, $0.value) })
            let missing = ManifestDocuments.missingReferences(objects, known: [], principals: nil)
            guard missing.isEmpty else { throw ManifestProblems(missing) }
            print("\(objects.count) documents, no problems")
        } catch let problems as ManifestProblems {
            throw failure(problems)
        }
    }
}

/// `regent plan -f PATH`: what applying the manifest would change, computed by the server against
/// the live configuration. Exit 0 when nothing would change, 2 when something would, 1 on error,
/// so CI can gate a pull request on it.
struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a manifest would change (exit 0: nothing, 2: changes, 1: error).")
    @OptionGroup var options: ClientOptions
    @Option(name: [.customShort("f"), .customLong("file")], help: "A manifest file, or a directory of .yaml files.")
    var path: String

    @Flag(help: "Also delete what an earlier apply created and the manifest no longer has.") var prune = false

    func run() async throws {
        let plan = try await Self.plan(path, prune: prune, options: options)
        if options.json {
            try printJSON(plan)
        } else {
            print(Self.describe(plan))
        }
        if !plan.changes.isEmpty { throw ExitCode(2) }
    }

    /// The manifest at `path` as the API's submission, or exit 1 with every problem reading it.
    /// With a `stateHash` (an apply), the secrets the Target documents reference are read too.
    static func submission(_ path: String, prune: Bool, stateHash: String? = nil) throws
        -> Components.Schemas.ManifestSubmission
    {
        let documents: [ManifestFiles.Document]
        do {
            documents = try ManifestFiles.read(path)
        } catch {
            throw failure(error)
        }
        var submitted: [Components.Schemas.ManifestSubmission.DocumentsPayloadPayload] = []
        for document in documents {
            submitted.append(
                .init(
                    file: document.source.file, document: document.source.document,
                    body: try YAMLJSON.convert(document.value)))
        }
        var secrets: [Components.Schemas.ManifestSubmission.SecretsPayloadPayload]?
        if stateHash != nil {
            do {
                secrets = try resolvedSecrets(documents).map {
                    .init(target: $0.target, name: $0.name, value: $0.value)
                }
            } catch {
                throw failure(error)
            }
        }
        return .init(prune: prune, stateHash: stateHash, secrets: secrets, documents: submitted)
    }

    /// Each referenced secret's value: `env:NAME` from this process's environment, `file:PATH`
    /// from a file (relative to the manifest file's directory), without a final newline.
    static func resolvedSecrets(_ documents: [ManifestFiles.Document]) throws(ManifestProblems)
        -> [(target: String, name: String, value: String)]
    {
        let references: [(source: ManifestSource, target: String, secret: String, reference: String)]
        do {
            references = try ManifestDocuments.secretReferences(documents.map { ($0.source, $0.value) })
        } catch let problem as ManifestProblem {
            throw ManifestProblems([problem])
        } catch {
            throw ManifestProblems([])
        }
        var resolved: [(target: String, name: String, value: String)] = []
        var problems: [ManifestProblem] = []
        for reference in references {
            let field = "secrets.\(reference.secret)"
            if reference.reference.hasPrefix("env:") {
                let name = String(reference.reference.dropFirst(4))
                guard let value = ProcessInfo.processInfo.environment[name] else {
                    problems.append(ManifestProblem(reference.source, field: field, "the environment has no \(name)"))
                    continue
                }
                resolved.append((reference.target, reference.secret, value))
            } else {
                let given = String(reference.reference.dropFirst(5))
                let base = URL(fileURLWithPath: reference.source.file).deletingLastPathComponent()
                let url = given.hasPrefix("/") ? URL(fileURLWithPath: given) : base.appendingPathComponent(given)
                guard let data = FileManager.default.contents(atPath: url.path),
                    var value = String(data: data, encoding: .utf8)
                else {
                    problems.append(ManifestProblem(reference.source, field: field, "cannot read \(url.path)"))
                    continue
                }
                while value.hasSuffix("\n") { value.removeLast() }
                resolved.append((reference.target, reference.secret, value))
            }
        }
        guard problems.isEmpty else { throw ManifestProblems(problems) }
        return resolved
    }

    static func plan(_ path: String, prune: Bool, options: ClientOptions) async throws
        -> Components.Schemas.ManifestPlan
    {
        let output = try await options.client(timeout: 600).planManifest(
            body: .json(try submission(path, prune: prune)))
        guard case .ok(let ok) = output, case .json(let plan) = ok.body else { throw refusal(output) }
        return plan
    }

    /// As `terraform plan` shows it: each change with a sign, then the fields that differ.
    static func describe(_ plan: Components.Schemas.ManifestPlan) -> String {
        var lines: [String] = []
        for change in plan.changes {
            let sign = ["create": "+", "update": "~", "delete": "-"][change.action.rawValue] ?? "?"
            lines.append("\(sign) \(change.action.rawValue) \(change.kind) \(change.name)")
            for field in change.fields {
                let before = field.before.map(Self.text) ?? "(none)"
                let after = field.after.map(Self.text) ?? "(none)"
                switch change.action {
                case .create: lines.append("    \(field.path): \(after)")
                case .delete: lines.append("    \(field.path): \(before)")
                case .update: lines.append("    \(field.path): \(before) → \(after)")
                }
            }
        }
        let counts = ["create", "update", "delete"].map { action in
            plan.changes.filter { $0.action.rawValue == action }.count
        }
        lines.append(
            plan.changes.isEmpty
                ? "No changes: the live configuration matches the manifest."
                : "Plan: \(counts[0]) to create, \(counts[1]) to update, \(counts[2]) to delete.")
        return lines.joined(separator: "\n")
    }

    private static func text(_ value: OpenAPIValueContainer) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
}

/// `regent apply -f PATH`: the manifest's plan applied, all of it in one transaction or nothing.
/// With `--state-hash` (from `regent plan --json`, reviewed in a pull request) it applies only if
/// the live state is still the one planned against; without, it plans first and applies that.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply a manifest: exactly its plan, atomically, refused if the live state moved on.")
    @OptionGroup var options: ClientOptions
    @Option(name: [.customShort("f"), .customLong("file")], help: "A manifest file, or a directory of .yaml files.")
    var path: String
    @Flag(help: "Also delete what an earlier apply created and the manifest no longer has.") var prune = false
    @Option(help: "The stateHash of the reviewed plan; refused when the live state is no longer that one.")
    var stateHash: String?

    func run() async throws {
        var expected = stateHash
        if expected == nil {
            let plan = try await Plan.plan(path, prune: prune, options: options)
            if !options.json { print(Plan.describe(plan)) }
            if plan.changes.isEmpty { return }
            expected = plan.stateHash
        }
        // A large apply is one long transaction: wait for its answer.
        let output = try await options.client(timeout: 3600).applyManifest(
            body: .json(try Plan.submission(path, prune: prune, stateHash: expected)))
        guard case .ok(let ok) = output, case .json(let applied) = ok.body else { throw refusal(output) }
        if options.json { return try printJSON(applied) }
        print("Applied \(applied.changes.count) changes.")
    }
}

/// `regent export`: the live configuration as a manifest (YAML documents), which `regent plan`
/// shows as no changes.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the live configuration (groups, roles, policies, eligibilities) as a manifest.")
    @OptionGroup var options: ClientOptions
    @Option(name: [.customShort("o"), .customLong("output")], help: "The file to write (default: standard output).")
    var output: String?

    func run() async throws {
        let answer = try await options.client().exportManifest()
        guard case .ok(let ok) = answer, case .json(let body) = ok.body else { throw refusal(answer) }
        var text = ""
        for document in body.documents {
            let value: JSONValue = try YAMLJSON.convert(document)
            text += "---\n" + (try Yams.serialize(node: YAMLJSON.node(value)))
        }
        if let output {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: output))
            } catch {
                throw Regent.fail("cannot write \(output): \(error.localizedDescription)")
            }
        } else {
            print(text, terminator: "")
        }
    }
}

/// A manifest's problems, one line each on stderr, and exit 1.
private func failure(_ problems: ManifestProblems) -> ExitCode {
    for problem in problems.problems { FileHandle.standardError.write(Data("regent: \(problem)\n".utf8)) }
    return ExitCode.failure
}

/// `regent manifest schema`: the JSON Schema of a manifest document, from this binary's own API
/// document, for an editor's YAML language server (the server serves the same at
/// `/v1/manifest/schema.json`).
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest", abstract: "About manifests: their JSON Schema.", subcommands: [Schema.self])

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the JSON Schema of a manifest document.")

        func run() throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(try ManifestSchema.document()), as: UTF8.self))
        }
    }
}
