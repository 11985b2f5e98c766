import Foundation
import HTTPTypes
import RegentCore

/// What a SCIM client reads to learn what Regent serves (RFC 7644 §4): the service provider's
/// configuration, the two resource types, and the schemas (RFC 7643 §7, kept in
/// `Discovery/schemas.json`: exactly the attributes Regent keeps).
struct SCIMDiscovery: Sendable {
    let schemaList: [SCIMValue]

    static func load() throws -> SCIMDiscovery {
        guard let url = Bundle.module.url(forResource: "schemas", withExtension: "json", subdirectory: "Discovery")
        else { throw SCIMError(status: .internalServerError, scimType: nil, detail: "the SCIM schemas are missing") }
        guard let list = try SCIMValue.parse(try Data(contentsOf: url)).array else {
            throw SCIMError(status: .internalServerError, scimType: nil, detail: "the SCIM schemas are not a list")
        }
        return SCIMDiscovery(schemaList: list)
    }

    func serviceProviderConfig(base: String) -> SCIMValue {
        func supported(_ flag: Bool, _ extra: [String: SCIMValue] = [:]) -> SCIMValue {
            .object(extra.merging(["supported": .bool(flag)]) { $1 })
        }
        return .object([
            "schemas": .array([.string("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig")]),
            "patch": supported(true),
            "bulk": supported(false, ["maxOperations": .number(0), "maxPayloadSize": .number(0)]),
            "filter": supported(true, ["maxResults": .number(Double(SCIMHandler.maximumCount))]),
            "changePassword": supported(false), "sort": supported(false), "etag": supported(false),
            "authenticationSchemes": .array([
                .object([
                    "type": .string("oauthbearertoken"), "name": .string("Bearer token"),
                    "description": .string("A SCIM token made with POST /v1/scim/tokens or regent scim-token create"),
                    "primary": .bool(true),
                ])
            ]),
            "meta": .object([
                "resourceType": .string("ServiceProviderConfig"), "location": .string("\(base)/ServiceProviderConfig"),
            ]),
        ])
    }

    func resourceTypes(base: String, id: String?) throws(SCIMError) -> SCIMValue {
        let types: [SCIMValue] = [("User", SCIMResources.userSchema), ("Group", SCIMResources.groupSchema)].map {
            name, schema in
            .object([
                "schemas": .array([.string("urn:ietf:params:scim:schemas:core:2.0:ResourceType")]),
                "id": .string(name), "name": .string(name), "endpoint": .string("/\(name)s"),
                "description": .string(name == "User" ? "People" : "Groups of people and groups"),
                "schema": .string(schema),
                "meta": .object([
                    "resourceType": .string("ResourceType"), "location": .string("\(base)/ResourceTypes/\(name)"),
                ]),
            ])
        }
        return try Self.listOrOne(types, id: id, what: "resource type")
    }

    func schemas(id: String?) throws(SCIMError) -> SCIMValue {
        try Self.listOrOne(schemaList, id: id, what: "schema")
    }

    static func listOrOne(_ items: [SCIMValue], id: String?, what: String) throws(SCIMError) -> SCIMValue {
        guard let id else {
            return .object([
                "schemas": .array([.string(SCIMResources.listSchema)]), "totalResults": .number(Double(items.count)),
                "startIndex": .number(1), "itemsPerPage": .number(Double(items.count)), "Resources": .array(items),
            ])
        }
        guard let item = items.first(where: { $0.object?["id"] == .string(id) }) else {
            throw .notFound("no \(what) \(id)")
        }
        return item
    }
}
