// The generated types, server stubs and client live in this target (see openapi-generator-config.yaml).
public import Foundation

/// The OpenAPI document this target was generated from, served at `/openapi.yaml` so clients and
/// tools (schemathesis) see exactly the contract the server implements.
public enum OpenAPIDocument {
    public static var yaml: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "yaml").flatMap { try? Data(contentsOf: $0) }
    }
}
