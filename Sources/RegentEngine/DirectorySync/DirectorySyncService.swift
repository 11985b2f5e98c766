public import Foundation
import RegentAudit
public import RegentCore

/// The organisation's directory keeping Regent's users and groups in step (SCIM 2.0): it creates,
/// changes, disables and deletes the principals it provisions, and only those. Every change is
/// audited with the SCIM client as actor and takes effect at once (``AccessWithdrawal``); none may
/// leave Regent without an enabled administrator.
public struct DirectorySyncService: Sendable {
    let engine: Engine
}

extension Engine {
    public var directorySync: DirectorySyncService { DirectorySyncService(engine: self) }
}

/// A SCIM client proven by its bearer token (see ``DirectorySyncService/authenticate(token:)``).
public struct DirectoryClient: Sendable, Hashable {
    public let tokenId: String
    public let name: String
    public var sourceAddress: String?
    public var userAgent: String?

    init(tokenId: String, name: String) {
        self.tokenId = tokenId
        self.name = name
    }

    var auditActor: AuditActor {
        AuditActor(principalId: nil, name: "scim:\(name)", sourceAddress: sourceAddress, userAgent: userAgent)
    }
}

/// A member or group as the directory sees it.
public struct DirectoryMember: Sendable, Hashable {
    public var id: Principal.ID
    public var kind: Principal.Kind
    public var display: String
}

/// A provisioned user: the principal, what the directory said, and its directory groups.
public struct DirectoryUser: Sendable {
    public var principal: Principal
    public var entry: DirectoryEntry
    public var groups: [DirectoryMember]

    public var draft: DirectoryUserDraft {
        DirectoryUserDraft(
            userName: entry.name, externalId: entry.externalId, displayName: entry.displayName, emails: entry.emails,
            active: entry.active)
    }
}

/// A provisioned group with its direct members.
public struct DirectoryGroup: Sendable {
    public var principal: Principal
    public var entry: DirectoryEntry
    public var members: [DirectoryMember]

    public var draft: DirectoryGroupDraft {
        DirectoryGroupDraft(displayName: entry.name, externalId: entry.externalId, members: members.map(\.id))
    }
}

/// What the directory says a user is; the whole of it (a replace), made by SCIM's PUT or PATCH.
public struct DirectoryUserDraft: Sendable, Equatable {
    public var userName: String
    public var externalId: String?
    public var displayName: String?
    public var emails: [DirectoryEntry.Email]
    public var active: Bool?

    public init(
        userName: String, externalId: String? = nil, displayName: String? = nil, emails: [DirectoryEntry.Email] = [],
        active: Bool? = nil
    ) {
        self.userName = userName
        self.externalId = externalId
        self.displayName = displayName
        self.emails = emails
        self.active = active
    }
}

/// What the directory says a group is, with its direct members in full.
public struct DirectoryGroupDraft: Sendable, Equatable {
    public var displayName: String
    public var externalId: String?
    public var members: [Principal.ID]
    /// Members a PATCH named for removal: each must be a provisioned principal.
    public var removing: Set<Principal.ID> = []

    public init(displayName: String, externalId: String? = nil, members: [Principal.ID] = []) {
        self.displayName = displayName
        self.externalId = externalId
        self.members = members
    }
}
