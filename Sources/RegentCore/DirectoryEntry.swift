public import Foundation

/// What the organisation's directory said about a principal it provisions (through SCIM), as it
/// said it. The principal's Regent name was derived from `name` when it was made and never
/// changes; display name, email and enabled follow the entry.
public struct DirectoryEntry: Sendable, Equatable, Codable {
    public struct Email: Sendable, Equatable, Codable {
        public var value: String
        public var type: String?
        public var primary: Bool?

        public init(value: String, type: String? = nil, primary: Bool? = nil) {
            self.value = value
            self.type = type
            self.primary = primary
        }
    }

    public let principalId: Principal.ID
    /// The directory's own id for the person or group.
    public var externalId: String?
    /// A user's `userName` or a group's `displayName`, exactly as given; unique without case.
    public var name: String
    /// A user's display name, if the directory gave one.
    public var displayName: String?
    public var emails: [Email]
    /// A user's `active`, if the directory gave it; absent means enabled.
    public var active: Bool?
    public let createdAt: Date
    public var updatedAt: Date

    public init(
        principalId: Principal.ID, externalId: String?, name: String, displayName: String? = nil,
        emails: [Email] = [], active: Bool? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.principalId = principalId
        self.externalId = externalId
        self.name = name
        self.displayName = displayName
        self.emails = emails
        self.active = active
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The email Regent mails: the primary one, else the first.
    public var mailAddress: String? { (emails.first { $0.primary == true } ?? emails.first)?.value }

    /// Whether the principal it describes is enabled.
    public var isEnabled: Bool { active ?? true }

    /// Checks what the directory sent: a name, at most one primary email, values of sane length.
    public func validate() throws(RegentError) {
        guard !name.isEmpty, name.count <= 256, !name.contains(where: \.isNewline) else {
            throw .invalid("name", "a directory name is 1–256 characters on one line")
        }
        guard (displayName ?? "").count <= 256, (externalId ?? "").count <= 256 else {
            throw .invalid(
                displayName.map { $0.count > 256 } ?? false ? "displayName" : "externalId", "at most 256 characters")
        }
        guard emails.count <= 20, emails.allSatisfy({ !$0.value.isEmpty && $0.value.count <= 256 }) else {
            throw .invalid("emails", "at most 20 emails of 1–256 characters")
        }
        guard emails.filter({ $0.primary == true }).count <= 1 else {
            throw .invalid("emails", "at most one email is primary")
        }
    }
}
