import ArgumentParser
import Foundation
import RegentCore
import RegentServer
import Yams

/// A manifest on disk: one YAML file, or every `.yaml`/`.yml` file under a directory (in path
/// order), each holding one or more documents, read into JSON documents named by file and place.
/// Bounded before anything is parsed or expanded: 4 MiB in all, and at most
/// ``YAMLJSON/maximumValues`` values once aliases are expanded (a "billion laughs" document stops there).
enum ManifestFiles {
    static let maximumBytes = 4 << 20

    struct Document {
        var source: ManifestSource
        var value: JSONValue
    }

    /// The documents at `path`, or every problem reading them (each naming its file).
    static func read(_ path: String) throws(ManifestProblems) -> [Document] {
        let files = try files(at: path)
        var total = 0
        var budget = YAMLJSON.maximumValues
        var documents: [Document] = []
        var problems: [ManifestProblem] = []
        for file in files {
            let whole = ManifestSource(file: file, document: 0)
            guard let data = FileManager.default.contents(atPath: file) else {
                problems.append(ManifestProblem(whole, field: nil, "cannot be read"))
                continue
            }
            total += data.count
            guard total <= maximumBytes else {
                throw ManifestProblems([
                    ManifestProblem(whole, field: nil, "the manifest is larger than \(maximumBytes >> 20) MiB")
                ])
            }
            guard let text = String(data: data, encoding: .utf8) else {
                problems.append(ManifestProblem(whole, field: nil, "is not UTF-8 text"))
                continue
            }
            do {
                // The parser itself, not `compose_all`, whose sequence ends quietly at a syntax error.
                let parser = try Parser(yaml: text)
                var index = 0
                while let node = try parser.nextRoot() {
                    index += 1
                    let source = ManifestSource(file: file, document: index)
                    do {
                        documents.append(Document(source: source, value: try YAMLJSON.value(node, budget: &budget)))
                    } catch let refusal as YAMLJSON.Refusal {
                        problems.append(ManifestProblem(source, field: nil, refusal.reason))
                        if budget <= 0 { throw ManifestProblems(problems) }
                    }
                }
            } catch let problems as ManifestProblems {
                throw problems
            } catch {
                problems.append(ManifestProblem(whole, field: nil, "is not YAML: \(error)"))
            }
        }
        guard problems.isEmpty else { throw ManifestProblems(problems) }
        return documents
    }

    private static func files(at path: String) throws(ManifestProblems) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ManifestProblems([
                ManifestProblem(ManifestSource(file: path, document: 0), field: nil, "no such file")
            ])
        }
        guard isDirectory.boolValue else { return [path] }
        let base = URL(fileURLWithPath: path)
        let found = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        guard !found.isEmpty else {
            throw ManifestProblems([
                ManifestProblem(ManifestSource(file: path, document: 0), field: nil, "holds no .yaml or .yml files")
            ])
        }
        return found.map { base.appendingPathComponent($0).path }
    }

}
