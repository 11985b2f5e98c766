import Foundation
import RegentAPI
import RegentCore

/// Domain values → API shapes. Field names are the contract (DESIGN.md §7).
extension Components.Schemas.Principal {
    init(_ principal: RegentCore.Principal) {
        self.init(
            id: principal.id.description, kind: .init(rawValue: principal.kind.rawValue) ?? .user, name: principal.name,
            displayName: principal.displayName, email: principal.email, enabled: principal.isEnabled)
    }
}

extension Components.Schemas.Request {
    init(_ request: RegentCore.Request) {
        self.init(
            id: request.id.description, action: .init(rawValue: request.action.rawValue) ?? .selfActivate,
            status: .init(rawValue: request.status.rawValue) ?? .failed, requesterId: request.requesterId.description,
            principalId: request.principalId.description, roleId: request.roleId.description, scope: request.scope.path,
            kind: request.kind == .eligible ? .eligible : .active, assignmentId: request.assignmentId?.description,
            targetAssignmentId: request.targetAssignmentId?.description, start: request.requestedStart,
            duration: request.duration?.description, justification: request.justification,
            ticket: request.ticket.map { .init(system: $0.system, number: $0.number) },
            failedRules: request.failedRules.map(\.rawValue), reason: request.reason,
            approval: request.approval.map(Components.Schemas.ApprovalState.init), createdAt: request.createdAt,
            updatedAt: request.updatedAt)
    }
}

extension Components.Schemas.ApprovalState {
    init(_ progress: ApprovalProgress) {
        self.init(
            currentStage: progress.currentStage + 1, deadline: progress.deadline,
            stages: progress.stages.map {
                .init(
                    approvers: $0.approvers.map(\.description), requiredApprovals: $0.requiredApprovals,
                    timeout: $0.timeout.description)
            },
            decisions: progress.decisions.map {
                .init(
                    stage: $0.stage + 1, approverId: $0.approverId.description,
                    decision: $0.verdict == .approve ? .approve : .deny, justification: $0.justification, at: $0.at)
            })
    }
}

extension RegentCore.Request.Action {
    init(_ action: Components.Schemas.RequestAction) throws(APIProblem) {
        guard let value = Self(rawValue: action.rawValue) else { throw APIProblem.invalid("action", "unknown action") }
        self = value
    }
}

extension Components.Schemas.Role {
    init(_ role: RegentCore.Role) {
        self.init(
            id: role.id.description, name: role.name, description: role.description,
            entitlements: role.entitlements.map { .init(targetId: $0.targetId.description, value: $0.value) },
            builtIn: role.isBuiltIn)
    }
}

extension Components.Schemas.Assignment {
    /// `holderDisabled`: say that the holder is disabled; nil where a list does not tell.
    init(_ assignment: RegentCore.Assignment, holderDisabled: Bool? = nil) {
        self.init(
            id: assignment.id.description, kind: assignment.kind == .eligible ? .eligible : .active,
            principalId: assignment.principalId.description, roleId: assignment.roleId.description,
            scope: assignment.scope.path, start: assignment.start, end: assignment.end,
            state: .init(rawValue: assignment.state.rawValue) ?? .ended,
            endReason: assignment.endReason.flatMap { .init(rawValue: $0.rawValue) },
            requestId: assignment.requestId?.description, activatedFrom: assignment.activatedFrom?.description,
            holderDisabled: holderDisabled)
    }
}

extension Components.Schemas.ApiToken {
    init(_ token: APIToken, secret: String?) {
        self.init(
            id: token.id, name: token.name, access: token.access == .check ? .check : .full, token: secret,
            createdAt: token.createdAt, expiresAt: token.expiresAt, revokedAt: token.revokedAt)
    }
}
