public import Foundation
public import RegentCore
public import Yams

/// YAML as JSON and back, one mechanism for manifests (read by the CLI, exported as YAML) and
/// for the manifest schema (read from the OpenAPI document). Reading spends a budget of values,
/// so an alias that expands a small document into a huge one is refused before it is built.
public enum YAMLJSON {
    public static let maximumValues = 1_000_000

    /// The same JSON in another Codable shape, dates in RFC 3339: the generated API bodies and
    /// containers and ``JSONValue`` meet through it.
    public static func convert<To: Decodable>(_ value: some Encodable, to type: To.Type = To.self) throws -> To {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(To.self, from: encoder.encode(value))
    }

    public struct Refusal: Error { public var reason: String }

    /// JSON as a YAML node, keys in the order a person reads a document: what it is first.
    public static func node(_ value: JSONValue) -> Node {
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
    public static func value(_ node: Node, budget: inout Int) throws(Refusal) -> JSONValue {
        budget -= 1
        guard budget >= 0 else {
            throw Refusal(reason: "the YAML expands to more than \(maximumValues) values (aliases?)")
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
            for element in sequence { values.append(try value(element, budget: &budget)) }
            return .array(values)
        case .mapping(let mapping):
            var fields: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { throw Refusal(reason: "every key is a field name") }
                guard fields[name] == nil else { throw Refusal(reason: "the field \(name) is given twice") }
                fields[name] = try Self.value(value, budget: &budget)
            }
            return .object(fields)
        case .alias:
            throw Refusal(reason: "an alias that names nothing")
        }
    }
}
