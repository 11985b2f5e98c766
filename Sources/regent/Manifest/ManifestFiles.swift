import ArgumentParser
import Foundation
import RegentCore
import RegentServer
import Yams

/// A manifest on disk: one YAML file, or every `.yaml`/`.yml` file under a directory (in path
/// order), each holding one or more documents, read into JSON documents named by file and place.
/// Bounded before anything is parsed or expanded: 4 MiB in all, and at most
/// ``maximumValues`` values once aliases are expanded (a "billion laughs" document stops there).
enum ManifestFiles {
    static let maximumBytes = 4 << 20
    static let maximumValues = 1_000_000

    struct Document {
        var source: ManifestSource
        var value: JSONValue
    }

    /// The documents at `path`, or every problem reading them (each naming its file).
    static func read(_ path: String) throws(ManifestProblems) -> [Document] {
        let files = try files(at: path)
        var total = 0
        var budget = maximumValues
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
                        documents.append(Document(source: source, value: try json(node, budget: &budget)))
                    } catch let refusal as Refusal {
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

    struct Refusal: Error { var reason: String }

    /// JSON as a YAML node, keys in the order a person reads a document: what it is first.
    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let bool): return Node(bool ? "true" : "false", Tag(.bool))
        case .number(let number):
            let text = number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            return Node(text, Tag(number == number.rounded() ? .int : .float))
        case .string(let string): return Node(string, Tag(.str))
        case .array(let values): return Node(values.map(node))
        case .object(let fields):
            let first = ["apiVersion", "kind", "name"]
            let names = first.filter { fields[$0] != nil } + fields.keys.filter { !first.contains($0) }.sorted()
            return Node(names.map { (Node($0), node(fields[$0] ?? .null)) })
        }
    }

    /// A YAML node as JSON, spending one of `budget` per value, so an alias that expands a
    /// small document into a huge one is refused before it is built.
    private static func json(_ node: Node, budget: inout Int) throws(Refusal) -> JSONValue {
        budget -= 1
        guard budget >= 0 else {
            throw Refusal(reason: "the manifest expands to more than \(maximumValues) values (aliases?)")
        }
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int, .float: return node.float.map(JSONValue.number) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            var values: [JSONValue] = []
            for element in sequence { values.append(try json(element, budget: &budget)) }
            return .array(values)
        case .mapping(let mapping):
            var fields: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { throw Refusal(reason: "every key is a field name") }
                guard fields[name] == nil else { throw Refusal(reason: "the field \(name) is given twice") }
                fields[name] = try json(value, budget: &budget)
            }
            return .object(fields)
        case .alias:
            throw Refusal(reason: "an alias that names nothing")
        }
    }
}
