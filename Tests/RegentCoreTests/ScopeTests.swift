import RegentCore
import Testing

struct ScopeTests {
    /// Well-formed scopes parse and print back unchanged.
    @Test(arguments: ["/", "/prod", "/prod/db/orders", "/eu-west-1/k8s:prod/ns_a"])
    func parses(text: String) throws {
        #expect(try Scope(parsing: text).path == text)
    }

    /// Ambiguous or hostile spellings are refused.
    @Test(arguments: [
        "", "prod", "//", "/prod/", "/prod//db", "/./prod", "/prod/..", "/prod/../admin", "/pr od", "/prod\u{0}",
        "/prod\n", "/a\\b", "/a?b", "/a#b", "/a%2e", "/" + String(repeating: "a", count: 512),
        "/" + Array(repeating: "a", count: 33).joined(separator: "/"),
    ])
    func refuses(text: String) {
        #expect(throws: RegentError.invalid("scope", "")) { try Scope(parsing: text) }
    }

    /// Exactly 32 levels is allowed; an ancestor covers its descendants and not its siblings.
    @Test func coversDescendantsOnly() throws {
        _ = try Scope(parsing: "/" + Array(repeating: "a", count: 32).joined(separator: "/"))
        let prod = try Scope(parsing: "/prod")
        #expect(Scope.root.covers(prod))
        #expect(prod.covers(prod))
        #expect(prod.covers(try Scope(parsing: "/prod/db/orders")))
        #expect(!prod.covers(try Scope(parsing: "/production")))
        #expect(!prod.covers(Scope.root))
        #expect(try Scope(parsing: "/prod/db").lineage.map(\.path) == ["/", "/prod", "/prod/db"])
    }
}
