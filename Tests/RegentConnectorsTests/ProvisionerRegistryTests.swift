import Foundation
import RegentConnectors
import RegentCore
import Testing

struct ProvisionerRegistryTests {
    /// The account template maps a principal to its account on the target, defaulting to its name.
    @Test func accountTemplate() throws {
        var target = try Target(id: Target.ID(UUID()), kind: .postgres, name: "orders-db", scope: .root)
        #expect(GrantSpec.account(for: "alice", on: target) == "alice")
        target.config["accountTemplate"] = "pim_{name}"
        #expect(GrantSpec.account(for: "alice", on: target) == "pim_alice")
    }

    /// A kind without a registered connector has none; the engine refuses to pretend it granted.
    @Test func emptyRegistry() {
        #expect(ProvisionerRegistry().provisioner(for: .postgres) == nil)
    }
}
