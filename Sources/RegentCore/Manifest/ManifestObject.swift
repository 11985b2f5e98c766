public import Foundation

/// The kinds of object a manifest declares, in the order one may name another: a role names
/// targets, a policy names a role and its approvers, an eligibility names a principal and a role.
/// Creates run in this order and deletes in the reverse one, so nothing ever names what is not there.
public enum ManifestKind: String, CaseIterable, Codable, Sendable, Comparable {
    case target = "Target"
    case group = "Group"
    case service = "Service"
    case user = "User"
    case role = "Role"
    case policy = "Policy"
    case eligibility = "Eligibility"
    case accessReview = "AccessReview"
    case alertRule = "AlertRule"

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.order < rhs.order }
    private var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
}

/// One object as a manifest states it — by kind and name, its fields naming other objects by
/// name, never by id — whether read from a file or from the live state (as `regent export` writes it).
public struct ManifestObject: Hashable, Sendable, Codable {
    public struct Key: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
        public var kind: ManifestKind
        public var name: String
        public init(_ kind: ManifestKind, _ name: String) {
            self.kind = kind
            self.name = name
        }
        public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.kind, lhs.name) < (rhs.kind, rhs.name) }
        public var description: String { "\(kind.rawValue) \(name)" }
    }

    public var key: Key
    /// Every field but the kind and the name, with the API's field names.
    public var fields: [String: JSONValue]

    public init(_ kind: ManifestKind, _ name: String, fields: [String: JSONValue]) {
        key = Key(kind, name)
        self.fields = fields
    }

    /// The same bytes for the same object on every replica and run, for the state's hash.
    public static func canonical(_ objects: [ManifestObject]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(objects.sorted { $0.key < $1.key })) ?? Data()
    }
}
