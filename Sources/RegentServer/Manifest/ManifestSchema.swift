public import Foundation
import RegentAPI
public import RegentCore
import Yams

/// The JSON Schema of a manifest document, for editors to complete and check: built from the
/// OpenAPI document's own schemas (the API's bodies are the documents' fields), so the two never
/// disagree. Served at `/v1/manifest/schema.json` and written by `regent manifest schema`.
public enum ManifestSchema {
    public enum Failure: Error { case noOpenAPIDocument }

    public static func document() throws -> JSONValue {
        guard let data = OpenAPIDocument.yaml, let text = String(data: data, encoding: .utf8),
            let root = try Yams.compose(yaml: text)
        else { throw Failure.noOpenAPIDocument }
        var budget = YAMLJSON.maximumValues
        let openAPI = try YAMLJSON.value(root, budget: &budget)
        let components = openAPI.object?["components"]?.object?["schemas"]?.object ?? [:]
        let definitions = components.mapValues(rewritingReferences)
        func properties(of schema: String) -> [String: JSONValue] {
            definitions[schema]?.object?["properties"]?.object ?? [:]
        }
        let name: JSONValue = .object(["type": "string", "minLength": .number(1), "maxLength": .number(64)])
        let scope: JSONValue = .object(["type": "string", "pattern": "^/", "description": "A scope such as /prod/eu"])
        func kind(_ kind: ManifestKind, required: [String], _ fields: [String: JSONValue]) -> JSONValue {
            .object([
                "type": "object", "additionalProperties": .bool(false),
                "required": .array((["apiVersion", "kind"] + required).map(JSONValue.string)),
                "properties": .object(
                    fields.merging([
                        "apiVersion": .object(["const": .string(ManifestDocuments.apiVersion)]),
                        "kind": .object(["const": .string(kind.rawValue)]),
                    ]) { $1 }),
            ])
        }
        var target = properties(of: "TargetCreate").filter { ["scope", "config"].contains($0.key) }
        target["name"] = name
        target["connector"] = definitions["TargetCreate"]?.object?["properties"]?.object?["kind"] ?? .object([:])
        target["secrets"] = .object([
            "description": "Each secret by reference (env:NAME or file:PATH), read by the CLI on apply",
            "oneOf": .array([
                .object([
                    "type": "object",
                    "additionalProperties": .object(["type": "string", "pattern": "^(env|file):.+"]),
                ]),
                .object(["type": "array", "items": .object(["type": "string"])]),
            ]),
        ])
        var group = properties(of: "PrincipalCreate").filter { ["displayName", "members"].contains($0.key) }
        group["name"] = name
        var user = properties(of: "PrincipalCreate").filter { ["displayName", "email"].contains($0.key) }
        user["name"] = name
        var service = user
        service["email"] = nil
        var role = properties(of: "RoleCreate")
        role["name"] = name
        var policy = properties(of: "PolicyBody")
        policy["role"] = name
        policy["scope"] = scope
        let review = properties(of: "ReviewCreate")
        var alertRule = properties(of: "AlertSettingsBody")
        alertRule["name"] = definitions["AlertRuleName"] ?? name
        let eligibility: [String: JSONValue] = [
            "principal": name, "role": name, "scope": scope,
            "end": .object(["type": "string", "format": "date-time"]),
        ]
        return .object([
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "urn:regent:manifest:v1",
            "title": "A Regent manifest document (apiVersion regent/v1)",
            "$defs": .object(definitions),
            "oneOf": .array([
                kind(.target, required: ["name", "connector", "scope"], target),
                kind(.group, required: ["name"], group),
                kind(.service, required: ["name"], service),
                kind(.user, required: ["name"], user),
                kind(.role, required: ["name"], role),
                kind(.policy, required: ["role", "scope"], policy),
                kind(.eligibility, required: ["principal", "role", "scope"], eligibility),
                kind(.accessReview, required: ["name", "reviewers", "recurrence", "start", "duration"], review),
                kind(.alertRule, required: ["name", "enabled"], alertRule),
            ]),
        ])
    }

    /// OpenAPI's `#/components/schemas/X` is this schema's `#/$defs/X`.
    private static func rewritingReferences(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let fields):
            var rewritten = fields.mapValues(rewritingReferences)
            if let reference = fields["$ref"]?.string {
                rewritten["$ref"] = .string(
                    reference.replacingOccurrences(of: "#/components/schemas/", with: "#/$defs/"))
            }
            return .object(rewritten)
        case .array(let values): return .array(values.map(rewritingReferences))
        default: return value
        }
    }
}
