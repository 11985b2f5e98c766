public import Foundation

/// Who receives access: a user, a group (whose members inherit its assignments) or a service.
public struct Principal: Identifiable, Hashable, Sendable, Codable {
    public typealias ID = Identifier<Principal>

    public enum Kind: String, Sendable, Codable, CaseIterable {
        case user
        case group
        case service
    }

    public let id: ID
    public var kind: Kind
    /// Unique, lowercase login or group name; checks and the CLI accept it in place of the id.
    public var name: String
    public var displayName: String
    public var email: String?
    /// A disabled principal keeps its history but can neither sign in nor use any assignment.
    public var isEnabled: Bool
    public let createdAt: Date

    public init(
        id: ID, kind: Kind, name: String, displayName: String? = nil, email: String? = nil,
        isEnabled: Bool = true, createdAt: Date
    ) throws(RegentError) {
        guard (displayName ?? name).count <= 256, (email ?? "").count <= 256 else {
            throw .invalid(
                displayName.map { $0.count > 256 } ?? false ? "displayName" : "email", "at most 256 characters")
        }
        self.id = id
        self.kind = kind
        self.name = try Self.validatedName(name)
        self.displayName = displayName ?? name
        self.email = email
        self.isEnabled = isEnabled
        self.createdAt = createdAt
    }

    /// Names are 1–128 characters of lowercase letters, digits and `._@+-`, starting with a letter
    /// or digit, so they are safe in scopes, target account templates and audit text.
    public static func validatedName(_ name: String, field: String = "name") throws(RegentError) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._@+-")
        guard (1...128).contains(name.count), name.allSatisfy(allowed.contains),
            let first = name.first, first.isLetter || first.isNumber
        else {
            throw .invalid(
                field, "a name is 1–128 lowercase letters, digits or ._@+- and starts with a letter or digit")
        }
        return name
    }
}
