import Foundation
import RegentCore

/// SCIM's JSON: resources, patch operations and filters are all about JSON whose attribute names
/// compare without case (RFC 7643 §2.1).
typealias SCIMValue = JSONValue

extension JSONValue {
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
