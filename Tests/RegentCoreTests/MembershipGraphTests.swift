import RegentCore
import Testing

struct MembershipGraphTests {
    /// Nested groups are inherited, and a cycle neither hangs nor leaks the start node.
    @Test func nestedAndCyclic() {
        let ops: Principal.ID = id(20)
        var graph = MembershipGraph(edges: [(leads, alice), (ops, leads)])
        #expect(graph.effectiveGroups(of: alice) == [leads, ops])
        #expect(graph.transitiveMembers(of: ops) == [leads, alice])
        #expect(graph.wouldCreateCycle(adding: ops, to: leads))
        #expect(graph.wouldCreateCycle(adding: leads, to: leads))
        #expect(!graph.wouldCreateCycle(adding: bob, to: leads))
        graph.insert(member: ops, into: leads)  // a cycle that reached the store anyway
        #expect(graph.effectiveGroups(of: alice) == [leads, ops])
        #expect(graph.identities(of: alice) == [alice, leads, ops])
        graph.remove(member: alice, from: leads)
        #expect(graph.effectiveGroups(of: alice).isEmpty)
    }
}
