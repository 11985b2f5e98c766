import RegentStore
import Testing

/// `--db postgres://…` as an operator writes it: one host or a primary and its standbys.
struct PostgresLocationTests {
    typealias Endpoint = PostgresLocation.Endpoint

    @Test(arguments: [
        ("postgres://regent@db.internal/regent", [Endpoint(host: "db.internal", port: 5432)]),
        (
            "postgres://regent@10.0.0.1:5432,10.0.0.2:5433/regent?target_session_attrs=read-write&sslmode=disable",
            [Endpoint(host: "10.0.0.1", port: 5432), Endpoint(host: "10.0.0.2", port: 5433)]
        ),
        (
            "postgresql://regent@[::1]:6543,h2/regent",
            [Endpoint(host: "::1", port: 6543), Endpoint(host: "h2", port: 5432)]
        ),
    ])
    func hosts(_ text: String, _ endpoints: [Endpoint]) throws {
        let location = try PostgresLocation(parsing: text, password: "never shown")
        #expect(location.endpoints == endpoints)
        #expect(location.user == "regent" && location.database == "regent")
        #expect(!location.description.contains("never shown"))
    }

    @Test(arguments: [
        ("postgres://regent@/regent", "names no host"),
        ("postgres://regent@h1,,h2/regent", "cannot read the host"),
        ("postgres://h1/regent", "names no user"),
        ("postgres://regent:secret@h1/regent", "holds a password"),
        ("postgres://regent@h1,h2/", "names no database"),
        ("postgres://regent@h1,h2/regent?target_session_attrs=any", "can only be read-write"),
        ("postgres://regent@h1/regent?sslmode=prefer", "sslmode must be one of"),
        ("postgres://regent@h1/regent?application_name=x", "unknown parameter application_name"),
        ("mysql://regent@h1/regent", "not a postgres:// URL"),
    ])
    func refused(_ text: String, _ reason: String) {
        #expect {
            _ = try PostgresLocation(parsing: text, password: nil)
        } throws: { error in
            guard case .invalidLocation(let why) = error as? StoreError else { return false }
            return why.contains(reason) && !why.contains("secret")
        }
    }
}
