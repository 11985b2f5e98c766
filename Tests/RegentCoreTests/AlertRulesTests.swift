import Foundation
import RegentCore
import RegentTestSupport
import Testing

/// The alert rules over a snapshot of facts, with a fixed clock: raised (audited and told),
/// unchanged (nothing), dismissed, reopened by something new, resolved when the condition goes.
struct AlertRulesTests {
    let adminRole: Role.ID = id(101)
    /// Only the rule under test is on.
    let settings = Dictionary(
        uniqueKeysWithValues: AlertRule.allCases.map {
            ($0, $0 == .permanentActiveAssignment ? AlertSettings.defaults(for: $0) : AlertSettings(enabled: false))
        })

    func facts(live: [Assignment], at now: Date) throws -> AlertFacts {
        AlertFacts(
            now: now,
            principals: [
                alice: try Principal(id: alice, kind: .user, name: "alice", createdAt: t0),
                bob: try Principal(id: bob, kind: .user, name: "bob", createdAt: t0),
            ], enabledUsers: 2,
            roles: [try Role(id: dbaRole, name: "dba", createdAt: t0)], graph: MembershipGraph(), live: live,
            lastActivations: [:], policies: [:], failing: [], outsideGrants: [], recentActivations: [], signIns: [])
    }

    func permanent(_ n: Int, for principal: Principal.ID) -> Assignment {
        Assignment.open(
            id: id(n), kind: .active, principalId: principal, roleId: dbaRole, scope: prod, start: t0, end: nil,
            requestId: nil, activatedFrom: nil, now: t0
        ).0
    }

    @Test func raisedDismissedReopenedResolved() throws {
        let alices = permanent(510, for: alice)
        let raised = try facts(live: [alices], at: t0 + 60).evaluate(settings: settings, existing: [:])
        let item = AlertItem(
            key: "permanent:\(alices.id)", summary: "alice holds dba at /prod permanently", principalId: alice,
            roleId: dbaRole)
        var alert = Alert(
            rule: .permanentActiveAssignment, state: .open, items: [item], raisedAt: t0 + 60, updatedAt: t0 + 60,
            dismissal: nil)
        #expect(
            raised == [
                .saveAlert(alert),
                .audit(
                    AuditNote(
                        .alertRaised,
                        details: ["rule": "permanentActiveAssignment", "items": "1", "first": item.summary])),
                .notify(.alertRaised(.permanentActiveAssignment)),
            ])

        // Nothing new: nothing saved, audited or told.
        let existing = [AlertRule.permanentActiveAssignment: alert]
        #expect(try facts(live: [alices], at: t0 + 120).evaluate(settings: settings, existing: existing) == [])

        // Dismissed by bob; a second permanent assignment reopens it.
        try alert.dismiss(by: bob, selfIdentities: [bob], reason: "break-glass account", at: t0 + 180)
        let bobs = permanent(511, for: bob)
        let reopened = try facts(live: [alices, bobs], at: t0 + 240).evaluate(
            settings: settings, existing: [.permanentActiveAssignment: alert])
        guard case .saveAlert(let saved) = reopened.first else { throw RegentError(.invalidArgument, "nothing saved") }
        #expect(saved.state == .open && saved.items.count == 2 && saved.dismissal == nil)
        #expect(
            reopened == [
                .saveAlert(saved),
                .audit(
                    AuditNote(
                        .alertReopened,
                        details: ["rule": "permanentActiveAssignment", "items": "2", "first": item.summary])),
                .notify(.alertRaised(.permanentActiveAssignment)),
            ])

        // The condition is gone: resolved, audited, nobody told.
        let resolved = try facts(live: [], at: t0 + 300).evaluate(
            settings: settings, existing: [.permanentActiveAssignment: saved])
        guard case .saveAlert(let closed) = resolved.first else { throw RegentError(.invalidArgument, "nothing saved") }
        #expect(closed.state == .resolved)
        #expect(
            resolved == [
                .saveAlert(closed),
                .audit(
                    AuditNote(
                        .alertResolved, details: ["rule": "permanentActiveAssignment", "items": "0", "first": ""])),
            ])
    }

    /// Events read for a window are counted only within it, and a disabled rule finds nothing.
    @Test func windowsAndSwitches() throws {
        var snapshot = try facts(live: [], at: t0)
        snapshot.outsideGrants = [
            AlertEvent(seq: 7, time: t0 - 8 * 86_400, actorId: nil, details: ["value": "old"]),
            AlertEvent(
                seq: 9, time: t0 - 3600, actorId: nil, details: ["value": "app_dba", "account": "bob", "target": "db"]),
        ]
        let window = AlertSettings.defaults(for: .roleAssignedOutsideRegent)
        #expect(
            snapshot.items(for: .roleAssignedOutsideRegent, settings: window) == [
                AlertItem(key: "outside:9", summary: "app_dba for bob on db at \((t0 - 3600).rfc3339)")
            ])
        #expect(snapshot.evaluate(settings: settings, existing: [:]) == [])
    }
}
