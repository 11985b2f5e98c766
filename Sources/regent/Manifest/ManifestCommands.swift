import ArgumentParser
import Foundation
import RegentCore
import RegentServer

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
            for problem in problems.problems {
                FileHandle.standardError.write(Data("regent: \(problem)\n".utf8))
            }
            throw ExitCode.failure
        }
    }
}
