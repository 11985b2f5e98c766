import Foundation

/// A JSON value as SCIM carries it: resources, patch operations and filters are all about JSON
/// whose attribute names compare without case (RFC 7643 §2.1).
enum SCIMValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([SCIMValue])
    case object([String: SCIMValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([SCIMValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: SCIMValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let bool): try container.encode(bool)
        case .number(let number):
            if number == number.rounded(), abs(number) < 1e15 { try container.encode(Int64(number)) } else {
                try container.encode(number)
            }
        case .string(let string): try container.encode(string)
        case .array(let array): try container.encode(array)
        case .object(let object): try container.encode(object)
        }
    }

    static func parse(_ data: Data) throws(SCIMError) -> SCIMValue {
        do {
            return try JSONDecoder().decode(SCIMValue.self, from: data)
        } catch {
            throw .invalidSyntax("the body is not JSON")
        }
    }

    var encoded: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }

    var object: [String: SCIMValue]? { if case .object(let object) = self { object } else { nil } }
    var array: [SCIMValue]? { if case .array(let array) = self { array } else { nil } }
    var string: String? { if case .string(let string) = self { string } else { nil } }

    /// Absent for SCIM: null, an empty list or an empty object (RFC 7643 §2.5 "unassigned").
    var isUnassigned: Bool {
        switch self {
        case .null: true
        case .array(let array): array.isEmpty
        case .object(let object): object.values.allSatisfy(\.isUnassigned)
        default: false
        }
    }
}

extension Dictionary where Key == String, Value == SCIMValue {
    /// The key naming `attribute`, compared without case.
    func key(for attribute: String) -> String? {
        keys.first { $0.caseInsensitiveCompare(attribute) == .orderedSame }
    }

    subscript(attribute attribute: String) -> SCIMValue? {
        get { key(for: attribute).flatMap { self[$0] } }
        set {
            if let existing = key(for: attribute) { self[existing] = nil }
            if let newValue { self[attribute] = newValue }
        }
    }
}
