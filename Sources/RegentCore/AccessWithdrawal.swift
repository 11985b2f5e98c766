public import Foundation

/// What a directory change takes away at once: the one rule behind disabling or deleting a
/// principal and removing a member from a group, whichever path made the change (the API, the
/// portal, SCIM).
///
/// After the change, an assignment that grants access (active, in force or scheduled) stays only
/// while its holder is enabled and, for an activation, while the holder still has the eligibility
/// it was activated from, directly or through enabled groups. Eligible assignments of a disabled
/// principal stay (so re-enabling restores eligibility, never an activation) unless the setting
/// says to remove them, or the principal was deleted. A request still waiting for approval or its
/// start on behalf of a principal who can no longer hold it is withdrawn.
public struct AccessWithdrawal: Sendable, Equatable {
    /// How to treat eligible assignments of a disabled principal.
    public enum DisabledEligibility: String, Sendable, CaseIterable {
        /// Kept, listed as belonging to a disabled principal; they are usable again once enabled.
        case keep
        /// Ended as removed.
        case remove
    }

    /// An assignment to end and why.
    public struct Ending: Sendable, Equatable {
        public var assignment: Assignment
        public var reason: Assignment.EndReason
    }

    /// The assignments to end, eligibilities first.
    public var endings: [Ending]
    /// The pending requests to withdraw.
    public var withdrawn: [Request]

    /// Decides what ends.
    /// - Parameters:
    ///   - live: the assignments not ended of every principal the change could affect, with the
    ///     eligible assignments their activations came from;
    ///   - pending: the requests of those principals that are `pendingApproval` or `scheduled`;
    ///   - graph: memberships and disabled principals *after* the change;
    ///   - deleted: principals deleted by the change: everything of theirs ends;
    ///   - eligibility: the setting for disabled principals' eligible assignments.
    public static func decide(
        live: [Assignment], pending: [Request], graph: MembershipGraph, deleted: Set<Principal.ID> = [],
        eligibility: DisabledEligibility
    ) -> AccessWithdrawal {
        let byId = Dictionary(live.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var endings: [Ending] = []
        var ending: Set<Assignment.ID> = []
        // Eligibilities first, so the activations that came from an ended one end with them.
        let ordered = live.sorted { $0.id.description < $1.id.description }
        for assignment in ordered where assignment.kind == .eligible && assignment.state != .ended {
            let holder = assignment.principalId
            if deleted.contains(holder) || (eligibility == .remove && !graph.isEnabled(holder)) {
                endings.append(Ending(assignment: assignment, reason: .removed))
                ending.insert(assignment.id)
            }
        }
        for assignment in ordered where assignment.kind == .active && assignment.state != .ended {
            let holder = assignment.principalId
            var held = graph.isEnabled(holder) && !deleted.contains(holder)
            if held, let origin = assignment.activatedFrom {
                if ending.contains(origin) {
                    held = false
                } else if let source = byId[origin] {
                    held = source.state != .ended && graph.identities(of: holder).contains(source.principalId)
                }
            }
            if !held {
                endings.append(Ending(assignment: assignment, reason: .withdrawn))
                ending.insert(assignment.id)
            }
        }
        let withdrawn = pending.filter { request in
            guard request.status == .pendingApproval else { return false }
            let holder = request.principalId
            return !graph.isEnabled(holder) || deleted.contains(holder) || !graph.isEnabled(request.requesterId)
        }.sorted { $0.id.description < $1.id.description }
        return AccessWithdrawal(endings: endings, withdrawn: withdrawn)
    }

    /// The principals whose assignments a change to `principal` can affect: itself and, for a
    /// group, everyone in it (nested, enabled or not).
    public static func affected(by principal: Principal.ID, in graph: MembershipGraph) -> Set<Principal.ID> {
        graph.everyMember(of: principal)
    }
}
