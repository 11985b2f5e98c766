import Foundation
import RegentAudit
import RegentCore
import RegentEngine

/// Regent's users and groups as SCIM resources (RFC 7643), and SCIM's JSON read back into what
/// the directory says they are. Reading is strict: an attribute Regent does not know is refused,
/// one SCIM defines that Regent does not keep (a user's `name`, `title`, `password`, the
/// enterprise extension…) is taken and dropped, and read-only ones (`id`, `meta`, `groups`) are
/// ignored, as RFC 7644 §3.5.1 says for a replace.
enum SCIMResources {
    static let userSchema = "urn:ietf:params:scim:schemas:core:2.0:User"
    static let groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
    static let listSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

    static let userReadOnly: Set<String> = ["id", "meta", "groups"]
    static let groupReadOnly: Set<String> = ["id", "meta"]
    static let userIgnored: Set<String> = [
        "name", "nickname", "profileurl", "title", "usertype", "preferredlanguage", "locale", "timezone", "password",
        "phonenumbers", "ims", "photos", "addresses", "entitlements", "roles", "x509certificates",
        SCIMPath.enterpriseExtension.lowercased(),
    ]
    static let groupIgnored: Set<String> = []

    // MARK: Writing

    static func json(_ user: DirectoryUser, base: String) -> [String: SCIMValue] {
        var json: [String: SCIMValue] = [
            "schemas": .array([.string(userSchema)]), "id": .string(user.principal.id.description),
            "userName": .string(user.entry.name),
            "meta": meta(user.entry, type: "User", location: "\(base)/Users/\(user.principal.id)"),
        ]
        json["externalId"] = user.entry.externalId.map(SCIMValue.string)
        json["displayName"] = user.entry.displayName.map(SCIMValue.string)
        json["active"] = user.entry.active.map(SCIMValue.bool)
        if !user.entry.emails.isEmpty {
            json["emails"] = .array(
                user.entry.emails.map { email in
                    var object: [String: SCIMValue] = ["value": .string(email.value)]
                    object["type"] = email.type.map(SCIMValue.string)
                    object["primary"] = email.primary.map(SCIMValue.bool)
                    return .object(object)
                })
        }
        if !user.groups.isEmpty {
            json["groups"] = .array(
                user.groups.map {
                    .object([
                        "value": .string($0.id.description), "display": .string($0.display),
                        "$ref": .string("\(base)/Groups/\($0.id)"), "type": .string("direct"),
                    ])
                })
        }
        return json
    }

    static func json(_ group: DirectoryGroup, base: String) -> [String: SCIMValue] {
        var json: [String: SCIMValue] = [
            "schemas": .array([.string(groupSchema)]), "id": .string(group.principal.id.description),
            "displayName": .string(group.entry.name),
            "meta": meta(group.entry, type: "Group", location: "\(base)/Groups/\(group.principal.id)"),
        ]
        json["externalId"] = group.entry.externalId.map(SCIMValue.string)
        if !group.members.isEmpty {
            json["members"] = .array(
                group.members.map { member in
                    let type = member.kind == .group ? "Group" : "User"
                    return .object([
                        "value": .string(member.id.description), "type": .string(type),
                        "$ref": .string("\(base)/\(type)s/\(member.id)"),
                    ])
                })
        }
        return json
    }

    static func meta(_ entry: DirectoryEntry, type: String, location: String) -> SCIMValue {
        .object([
            "resourceType": .string(type), "created": .string(entry.createdAt.rfc3339),
            "lastModified": .string(entry.updatedAt.rfc3339), "location": .string(location),
            "version": .string("W/\"\(entry.updatedAt.milliseconds)\""),
        ])
    }

    /// `attributes` / `excludedAttributes` (top-level names; `id` and `schemas` always stay).
    static func projected(_ resource: [String: SCIMValue], attributes: [String], excluded: [String])
        -> [String: SCIMValue]
    {
        func name(_ path: String) -> String {
            ((try? SCIMPath(parsing: path))?.attribute ?? path).lowercased()
        }
        let kept = Set(attributes.map(name))
        let dropped = Set(excluded.map(name))
        return resource.filter { key, _ in
            let lower = key.lowercased()
            if lower == "id" || lower == "schemas" { return true }
            if !kept.isEmpty { return kept.contains(lower) }
            return !dropped.contains(lower)
        }
    }

    // MARK: Reading

    static func userDraft(from json: [String: SCIMValue]) throws(SCIMError) -> DirectoryUserDraft {
        try refuseUnknown(
            json, known: ["schemas", "externalid", "username", "displayname", "active", "emails"],
            readOnly: userReadOnly, ignored: userIgnored)
        guard let userName = try string(json, "userName"), !userName.isEmpty else {
            throw .invalidValue("userName is required")
        }
        var emails: [DirectoryEntry.Email] = []
        if let list = json[attribute: "emails"], list != .null {
            guard let elements = list.array else { throw .invalidValue("emails is a list") }
            for element in elements {
                guard let email = element.object else { throw .invalidValue("each email is an object") }
                try refuseUnknown(
                    email, known: ["value", "type", "primary"], readOnly: [], ignored: ["display"],
                    prefix: "emails.")
                guard let value = try string(email, "value", prefix: "emails.") else {
                    throw .invalidValue("emails.value is required")
                }
                emails.append(
                    DirectoryEntry.Email(
                        value: value, type: try string(email, "type", prefix: "emails."),
                        primary: try bool(email, "primary", prefix: "emails.")))
            }
        }
        return DirectoryUserDraft(
            userName: userName, externalId: try string(json, "externalId"),
            displayName: try string(json, "displayName"), emails: emails, active: try bool(json, "active"))
    }

    static func groupDraft(from json: [String: SCIMValue]) throws(SCIMError) -> DirectoryGroupDraft {
        try refuseUnknown(
            json, known: ["schemas", "externalid", "displayname", "members"],
            readOnly: groupReadOnly, ignored: groupIgnored)
        guard let displayName = try string(json, "displayName"), !displayName.isEmpty else {
            throw .invalidValue("displayName is required")
        }
        var members: [Principal.ID] = []
        if let list = json[attribute: "members"], list != .null {
            guard let elements = list.array else { throw .invalidValue("members is a list") }
            for element in elements {
                guard let member = element.object else { throw .invalidValue("each member is an object") }
                try refuseUnknown(
                    member, known: ["value"], readOnly: [], ignored: ["display", "$ref", "type"],
                    prefix: "members.")
                guard let value = try string(member, "value", prefix: "members.") else {
                    throw .invalidValue("members.value is required")
                }
                guard let id = Principal.ID(value) else {
                    throw .invalidValue("members.value \(value) is not the id of a user or group")
                }
                if !members.contains(id) { members.append(id) }
            }
        }
        return DirectoryGroupDraft(
            displayName: displayName, externalId: try string(json, "externalId"), members: members)
    }

    static func refuseUnknown(
        _ json: [String: SCIMValue], known: Set<String>, readOnly: Set<String>, ignored: Set<String>,
        prefix: String = ""
    ) throws(SCIMError) {
        for key in json.keys.sorted() {
            let lower = key.lowercased()
            guard known.contains(lower) || readOnly.contains(lower) || ignored.contains(lower) else {
                throw .invalidValue("\(prefix)\(key) is not an attribute Regent knows")
            }
        }
    }

    static func string(_ json: [String: SCIMValue], _ name: String, prefix: String = "") throws(SCIMError) -> String? {
        switch json[attribute: name] {
        case nil, .null?: return nil
        case .string(let value)?:
            guard !value.contains("\u{0}") else { throw .invalidValue("\(prefix)\(name) holds a NUL character") }
            return value
        default: throw .invalidValue("\(prefix)\(name) is a string")
        }
    }

    /// A boolean, also as the string `"True"`/`"False"` Entra ID sends in patches.
    static func bool(_ json: [String: SCIMValue], _ name: String, prefix: String = "") throws(SCIMError) -> Bool? {
        switch json[attribute: name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case .string(let text)? where ["true", "false"].contains(text.lowercased()): return text.lowercased() == "true"
        default: throw .invalidValue("\(prefix)\(name) is true or false")
        }
    }
}
