import Foundation
import HTTPTypes
import RegentCore

/// A SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: `add`, `replace` and `remove`,
/// with a path, a value path (`members[value eq "…"]`, `emails[type eq "work"].value`) or none
/// (the value is an object of attributes), in the spellings Entra ID and Okta send (`"Replace"`,
/// `"value": "False"`, `remove` of `members` with a value list). The result is then read as a
/// whole resource, so a patch is held to exactly the rules of a replace.
struct SCIMPatch: Sendable {
    enum Op: String, Sendable {
        case add, replace, remove
    }

    struct Operation: Sendable {
        var op: Op
        var path: Target?
        var value: SCIMValue?
    }

    /// Where an operation applies: an attribute, optionally narrowed to the values matching a
    /// filter, optionally a sub-attribute of those.
    struct Target: Sendable, Equatable {
        var attribute: String
        var filter: SCIMFilter?
        var subAttribute: String?

        init(parsing text: String) throws(SCIMError) {
            if let open = text.firstIndex(of: "[") {
                guard let close = text.lastIndex(of: "]"), close > open else {
                    throw .invalidPath("\(text): '[' is not closed")
                }
                let attribute = try SCIMPath(parsing: String(text[..<open]))
                guard attribute.subAttribute == nil else { throw .invalidPath("\(text) is not a value path") }
                self.attribute = attribute.attribute
                do {
                    filter = try SCIMFilter(parsing: String(text[text.index(after: open)..<close]))
                } catch {
                    throw .invalidPath("\(text): \(error.detail)")
                }
                let rest = text[text.index(after: close)...]
                if rest.isEmpty {
                    subAttribute = nil
                } else {
                    guard rest.first == ".", SCIMPath.isName(String(rest.dropFirst())) else {
                        throw .invalidPath("\(text) is not a value path")
                    }
                    subAttribute = String(rest.dropFirst())
                }
            } else {
                let path = try SCIMPath(parsing: text)
                attribute = path.attribute
                filter = nil
                subAttribute = path.subAttribute
            }
        }
    }

    static let schema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    static let maximumOperations = 1000

    var operations: [Operation]

    init(parsing body: SCIMValue) throws(SCIMError) {
        guard let object = body.object else { throw .invalidSyntax("a PATCH body is a PatchOp object") }
        guard let schemas = object[attribute: "schemas"]?.array, schemas.contains(.string(Self.schema)) else {
            throw .invalidSyntax("a PATCH body names the schema \(Self.schema)")
        }
        guard let list = object[attribute: "Operations"]?.array, !list.isEmpty else {
            throw .invalidSyntax("a PATCH body has a non-empty Operations list")
        }
        guard list.count <= Self.maximumOperations else {
            throw .invalidSyntax("at most \(Self.maximumOperations) operations in one PATCH")
        }
        operations = try list.map { (item: SCIMValue) throws(SCIMError) -> Operation in
            guard let operation = item.object, let opText = operation[attribute: "op"]?.string,
                let op = Op(rawValue: opText.lowercased())
            else { throw .invalidSyntax("each operation has an op: add, replace or remove") }
            let path: Target? =
                switch operation[attribute: "path"] {
                case .string(let text)?: try Target(parsing: text)
                case nil, .null?: nil
                default: throw .invalidPath("a path is a string")
                }
            let value = operation[attribute: "value"]
            if op != .remove, value == nil { throw .invalidValue("\(op.rawValue) needs a value") }
            if op == .remove, path == nil { throw .noTarget("remove needs a path") }
            return Operation(op: op, path: path, value: value)
        }
    }

    /// The resource after every operation, in order. `readOnly` names attributes a patch may not
    /// touch; operations on `ignored` attributes (known to SCIM, not kept by Regent) do nothing.
    func applied(to resource: [String: SCIMValue], readOnly: Set<String>, ignored: Set<String>) throws(SCIMError)
        -> [String: SCIMValue]
    {
        var resource = resource
        for operation in operations {
            if let path = operation.path {
                if ignored.contains(path.attribute.lowercased()) { continue }
                try Self.refuseReadOnly(path.attribute, readOnly)
                try Self.apply(operation.op, at: path, value: operation.value, to: &resource)
            } else {
                guard let attributes = operation.value?.object else {
                    throw .invalidValue("\(operation.op.rawValue) without a path takes an object of attributes")
                }
                for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
                    if name.lowercased() == "schemas" { continue }
                    // Okta and Entra send `name.givenName` style keys inside a path-less value.
                    let target = try Target(parsing: name)
                    if ignored.contains(target.attribute.lowercased()) { continue }
                    try Self.refuseReadOnly(target.attribute, readOnly)
                    try Self.apply(operation.op, at: target, value: value, to: &resource)
                }
            }
        }
        return resource
    }

    static func refuseReadOnly(_ attribute: String, _ readOnly: Set<String>) throws(SCIMError) {
        if readOnly.contains(attribute.lowercased()) { throw .mutability("\(attribute) cannot be changed") }
    }

    static func apply(_ op: Op, at target: Target, value: SCIMValue?, to resource: inout [String: SCIMValue])
        throws(SCIMError)
    {
        let current = resource[attribute: target.attribute]
        if let filter = target.filter {
            var elements = current?.array ?? []
            let matching = elements.indices.filter { elements[$0].object.map(filter.matches) ?? false }
            switch op {
            case .remove:
                if let sub = target.subAttribute {
                    for index in matching { elements[index] = removing(sub, from: elements[index]) }
                } else {
                    elements = elements.enumerated().filter { !matching.contains($0.offset) }.map(\.element)
                }
            case .add, .replace:
                guard let value else { throw .invalidValue("\(op.rawValue) needs a value") }
                if matching.isEmpty {
                    // Entra ID replaces `emails[type eq "work"].value` on a user with no such
                    // email: the value it means is the element the filter describes.
                    guard let sub = target.subAttribute, case .compare(let path, .eq, let key) = filter,
                        path.subAttribute == nil
                    else { throw .noTarget("no value of \(target.attribute) matches the filter") }
                    elements.append(.object([path.attribute: key, sub: value]))
                } else {
                    for index in matching {
                        if let sub = target.subAttribute {
                            var element = elements[index].object ?? [:]
                            element[attribute: sub] = value
                            elements[index] = .object(element)
                        } else {
                            guard case .object(let replacement) = value else {
                                throw .invalidValue("a value of \(target.attribute) is an object")
                            }
                            var element = op == .add ? (elements[index].object ?? [:]) : [:]
                            for (key, item) in replacement { element[attribute: key] = item }
                            elements[index] = .object(element)
                        }
                    }
                }
            }
            resource[attribute: target.attribute] = elements.isEmpty ? nil : .array(elements)
            return
        }
        if let sub = target.subAttribute {
            var object = current?.object ?? [:]
            switch op {
            case .remove: object[attribute: sub] = nil
            case .add, .replace: object[attribute: sub] = value
            }
            resource[attribute: target.attribute] = object.isEmpty ? nil : .object(object)
            return
        }
        switch op {
        case .remove:
            // Entra ID removes members by naming them in the value rather than in a filter.
            if let removed = value?.array, let elements = current?.array {
                let names = Set(removed.compactMap { $0.object?[attribute: "value"]?.string })
                let kept = elements.filter { element in
                    guard let id = element.object?[attribute: "value"]?.string else { return true }
                    return !names.contains(id)
                }
                resource[attribute: target.attribute] = kept.isEmpty ? nil : .array(kept)
            } else {
                resource[attribute: target.attribute] = nil
            }
        case .replace:
            resource[attribute: target.attribute] = value
        case .add:
            guard let value else { return }
            switch (current, value) {
            case (.array(let existing)?, .array(let added)):
                resource[attribute: target.attribute] = .array(existing + added.filter { !existing.contains($0) })
            case (.object(var existing)?, .object(let added)):
                for (key, item) in added { existing[attribute: key] = item }
                resource[attribute: target.attribute] = .object(existing)
            default:
                resource[attribute: target.attribute] = value
            }
        }
    }

    static func removing(_ sub: String, from element: SCIMValue) -> SCIMValue {
        guard var object = element.object else { return element }
        object[attribute: sub] = nil
        return .object(object)
    }

    /// The member ids the patch names for removal (value paths on `members`, or Entra's value
    /// list): each must name a principal the directory provisions.
    var removedMembers: [String] {
        operations.filter { $0.op == .remove && $0.path?.attribute.lowercased() == "members" }.flatMap { operation in
            if let filter = operation.path?.filter {
                return Self.values(of: "value", in: filter)
            }
            return operation.value?.array?.compactMap { $0.object?[attribute: "value"]?.string } ?? []
        }
    }

    static func values(of attribute: String, in filter: SCIMFilter) -> [String] {
        switch filter {
        case .compare(let path, .eq, .string(let value)) where path.attribute.lowercased() == attribute: [value]
        case .or(let a, let b), .and(let a, let b): values(of: attribute, in: a) + values(of: attribute, in: b)
        default: []
        }
    }
}

/// What a PUT or a PATCH makes of a resource's JSON: the replacement as sent, or the patch applied.
enum SCIMChange: Sendable {
    case replace([String: SCIMValue])
    case patch(SCIMPatch)

    init(_ method: HTTPRequest.Method, body: SCIMValue) throws(SCIMError) {
        if method == .patch {
            self = .patch(try SCIMPatch(parsing: body))
        } else {
            guard let object = body.object else { throw .invalidSyntax("the body is a JSON object") }
            self = .replace(object)
        }
    }

    func applied(to resource: [String: SCIMValue], readOnly: Set<String>, ignored: Set<String>) throws(SCIMError)
        -> [String: SCIMValue]
    {
        switch self {
        case .replace(let replacement): replacement
        case .patch(let patch): try patch.applied(to: resource, readOnly: readOnly, ignored: ignored)
        }
    }

    /// The members a PATCH names for removal; none for a replace.
    var removedMembers: [String] {
        if case .patch(let patch) = self { patch.removedMembers } else { [] }
    }
}
