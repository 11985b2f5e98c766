public import Foundation
import RegentAudit
public import RegentCore

// The position each listed item leaves, in the order its store query lists it (`SQLListOrder`):
// kept beside those queries so that a list and its next page agree on the order.

extension ListPosition {
    /// Assignments are listed newest first (`SQLListOrder.newestFirst`).
    public init(_ assignment: Assignment) {
        self.init(value: assignment.createdAt.milliseconds, key: assignment.id.description)
    }

    /// Requests are listed newest first (`SQLListOrder.newestFirst`).
    public init(_ request: Request) {
        self.init(value: request.createdAt.milliseconds, key: request.id.description)
    }

    /// Principals are listed by their unique name.
    public init(_ principal: Principal) { self.init(key: principal.name) }

    /// Roles are listed by their unique name.
    public init(_ role: Role) { self.init(key: role.name) }

    /// Targets are listed by their unique name.
    public init(_ target: Target) { self.init(key: target.name) }

    /// Jobs are listed oldest first (`SQLListOrder.oldestFirst`).
    public init(_ job: Job) {
        self.init(value: (job.createdAt ?? Date(milliseconds: 0)).milliseconds, key: job.id.uuidString.lowercased())
    }
}
