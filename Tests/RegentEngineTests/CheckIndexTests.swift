import Foundation
import RegentCore
import RegentEngine
import RegentTestSupport
import Testing

/// The check index is reloaded from a snapshot while changes keep arriving: none may be undone.
struct CheckIndexTests {
    @Test func aChangeAppliedDuringAReloadIsReadAgain() throws {
        let index = CheckIndex()
        let (principal, role) = (Principal.ID(UUID()), Role.ID(UUID()))
        var assignment = Assignment.open(
            id: Assignment.ID(UUID()), kind: .active, principalId: principal, roleId: role, scope: .root,
            start: t0, end: t0.addingTimeInterval(3600), requestId: nil, activatedFrom: nil, now: t0
        ).0
        index.beginReplacement()
        // The snapshot was read before the deactivation committed…
        var replacement = CheckIndex.Replacement(graph: MembershipGraph())
        replacement.add([assignment])
        // …which reached the index while the snapshot was being read.
        _ = try assignment.finish(.deactivated, now: t0.addingTimeInterval(60))
        index.update([assignment])
        let touched = index.replace(with: replacement)
        #expect(touched.assignments == [assignment.id] && !touched.graph)
        // What the engine does with `touched`: reads those again and applies them.
        index.update([assignment])
        #expect(index.check(principal: principal, role: role, scope: .root, at: t0.addingTimeInterval(61)) == nil)

        // Outside a reload nothing is noted.
        #expect(index.replace(with: CheckIndex.Replacement(graph: MembershipGraph())).assignments.isEmpty)
    }
}
