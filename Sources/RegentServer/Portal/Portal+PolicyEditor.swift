import Foundation
import Hummingbird
import RegentCore
import RegentEngine

/// The policy editor: every rule of DESIGN.md §3 for one role at one scope, each field showing
/// the role's own setting (empty: inherited) next to what is in force and the scope it comes from.
extension Portal {
    func policyPage(role name: String, scope scopeText: String, notice: String? = nil, refusal: RegentError? = nil)
        async throws -> Response
    {
        guard let (_, actor) = signedIn() else { return Self.redirect("/login") }
        guard try await engine.permits(actor, .manageRoles) else { return Self.redirect("/roles") }
        do {
            let role = try await engine.directory.role(named: name)
            let scope = try Scope(parsing: scopeText)
            let (own, effective) = try await engine.directory.policies(role: role.id, scope: scope)
            let names = try await Directory(engine: engine, actor: actor).namesById
            let rules = PolicyEditorFields(own: own ?? Policy(), effective: effective, names: names)
            var values: [String: Any] = [
                "role": role.name, "scope": scope.path, "sections": rules.sections,
                "notifications": rules.notifications,
            ]
            if let notice { values["notice"] = notice }
            values["error"] = refusal.map { error in (error.field.map { "\($0): " } ?? "") + error.reason }
            return try await page(
                "policy", title: "Policy of \(role.name) at \(scope.path)", values,
                status: refusal?.pageStatus ?? .ok)
        } catch let failure as RegentError {
            return try await adminSection(.roles, refusal: failure)
        }
    }

    /// Writes every rule of the form into the role's own policy at the scope, or nothing when one
    /// field is wrong (the page then names it).
    func savePolicy(_ request: Request) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        let (roleName, scopeText) = (fields["role"] ?? "", fields["scope"] ?? "/")
        do {
            let role = try await engine.directory.role(named: roleName)
            let scope = try Scope(parsing: scopeText)
            let own = try await engine.directory.policies(role: role.id, scope: scope).own ?? Policy()
            let policy = try await PolicyForm.read(fields, onto: own) {
                try await engine.directory.principal(named: $0, by: actor).id
            }
            _ = try await engine.directory.setPolicy(policy, role: role.id, scope: scope, by: actor)
            var components = URLComponents()
            components.path = "/admin/policy"
            components.queryItems = [
                URLQueryItem(name: "role", value: role.name), URLQueryItem(name: "scope", value: scope.path),
                URLQueryItem(name: "done", value: "policy"),
            ]
            return Self.redirect(components.string ?? "/admin/roles")
        } catch let error as RegentError {
            return try await policyPage(role: roleName, scope: scopeText, refusal: error)
        }
    }
}

/// The editor's values for the template: sections of fields, each a select, a text box or a text
/// area with the role's own value, what is in force and where that comes from.
struct PolicyEditorFields {
    let own: Policy
    let effective: EffectivePolicy
    let names: [Principal.ID: String]

    var sections: [[String: Any]] {
        [
            [
                "title": "Activation",
                "fields": [
                    text(
                        .maximumDuration, "maximumDuration", "Maximum duration (5 minutes to 24 hours)",
                        own.maximumDuration?.description, effective.maximumDuration.description, "PT8H"),
                    flag(
                        .requireJustification, "Justification required", own.requireJustification,
                        effective.requireJustification),
                    flag(.requireTicket, "Ticket required", own.requireTicket, effective.requireTicket),
                    flag(.requireMfa, "Fresh MFA required", own.requireMfa, effective.requireMfa),
                    text(
                        .mfaFreshness, "mfaFreshness", "MFA freshness (how recent the code must be)",
                        own.mfaFreshness?.description, effective.mfaFreshness.description, "PT10M"),
                ],
            ],
            [
                "title": "Approval",
                "fields": [
                    select(
                        .approval, "approval.mode", "Approval",
                        [("", "inherit"), ("none", "not required"), ("required", "required, in the stages below")],
                        own.approval.map { $0.isRequired ? "required" : "none" } ?? "",
                        PolicyForm.text(effective.approval, names: names))
                ],
                "stages": (1...Approval.maximumStages).map(stage),
            ],
            [
                "title": "Conditions",
                "fields": [
                    text(
                        .networks, "networks", "Allowed source networks (CIDRs, comma-separated; any: no limit)",
                        own.networks.map { $0.isEmpty ? "any" : $0.map(\.description).joined(separator: ", ") },
                        effective.networks.isEmpty
                            ? "any" : effective.networks.map(\.description).joined(separator: ", "),
                        "10.0.0.0/8, 2001:db8::/32"),
                    area(
                        .timeWindows, "timeWindows", "Allowed time windows (one per line; any: at any time)",
                        own.timeWindows.map { $0.isEmpty ? "any" : $0.map(PolicyForm.text).joined(separator: "\n") },
                        effective.timeWindows.isEmpty
                            ? "any time" : effective.timeWindows.map(PolicyForm.text).joined(separator: "; "),
                        "Mon-Fri 08:00-18:00 Europe/Paris"),
                    text(
                        .maxActivations, "maxActivations", "Maximum activations (COUNT per DURATION, or unlimited)",
                        own.maxActivations.map(PolicyForm.text),
                        effective.maxActivations.map(PolicyForm.text) ?? "unlimited", "3 per P1D"),
                ],
            ],
            [
                "title": "Eligible assignments",
                "fields": expiration(.eligibleExpiration, own.eligibleExpiration, effective.eligibleExpiration),
            ],
            [
                "title": "Active assignments",
                "fields": expiration(.activeExpiration, own.activeExpiration, effective.activeExpiration) + [
                    flag(
                        .activeRequireMfa, "Fresh MFA from the assigning admin", own.activeRequireMfa,
                        effective.activeRequireMfa),
                    flag(
                        .activeRequireJustification, "Justification from the assigning admin",
                        own.activeRequireJustification, effective.activeRequireJustification),
                ],
            ],
        ]
    }

    /// The notification grid: one row per event, one cell per recipient class with its level and
    /// extra recipients, showing the rules in force when the role inherits them.
    var notifications: [String: Any] {
        let shown = own.notifications ?? effective.notifications
        let rows = NotificationRule.Event.allCases.map { event -> [String: Any] in
            [
                "event": event.rawValue,
                "cells": NotificationRule.Recipient.allCases.map { recipient -> [String: Any] in
                    let rule = shown.first { $0.event == event && $0.recipient == recipient }
                    let level = rule?.level ?? .none
                    return [
                        "name": "notify.\(event.rawValue).\(recipient.rawValue)", "recipient": recipient.rawValue,
                        "event": event.rawValue,
                        "options": NotificationRule.Level.allCases.map {
                            ["value": $0.rawValue, "label": $0.rawValue, "selected": $0 == level]
                        },
                        "extra": rule?.extraRecipients.joined(separator: ", ") ?? "",
                    ]
                },
            ]
        }
        return [
            "mode": select(
                .notifications, "notifications.mode", "Notifications",
                [("", "inherit (the grid shows what is in force)"), ("set", "as in the grid below")],
                own.notifications == nil ? "" : "set", own.notifications == nil ? "inherited" : "set here"),
            "recipients": NotificationRule.Recipient.allCases.map(\.rawValue),
            "rows": rows,
        ]
    }

    private func stage(_ number: Int) -> [String: Any] {
        let stage = own.approval?.stages.dropFirst(number - 1).first
        let prefix = "stage\(number)."
        func field(_ name: String, _ label: String, _ value: String?, _ example: String) -> [String: Any] {
            ["name": prefix + name, "label": label, "isText": true, "value": value ?? "", "placeholder": example]
        }
        return [
            "number": number,
            "fields": [
                field(
                    "approvers", "Approvers (users or groups, comma-separated)",
                    stage.map { PolicyForm.names($0.approvers, names) }, number == 1 ? "bob, dba-leads" : ""),
                field("requiredApprovals", "Approvals required", stage.map { "\($0.requiredApprovals)" }, "1"),
                field("timeout", "Times out after", stage.map { $0.timeout.description }, "PT24H"),
                field(
                    "escalationApprovers", "Escalate to (comma-separated)",
                    stage?.escalation.map { PolicyForm.names($0.approvers, names) }, ""),
                field("escalationAfter", "Escalate after", stage?.escalation.map { $0.after.description }, "PT4H"),
            ],
        ]
    }

    private func expiration(
        _ rule: PolicyRule, _ own: AssignmentExpiration?, _ inForce: AssignmentExpiration
    ) -> [[String: Any]] {
        let mode = own.map { $0.allowPermanent ? "permanent" : "bounded" } ?? ""
        return [
            select(
                rule, "\(rule.rawValue).mode", "Expiration",
                [("", "inherit"), ("permanent", "permanent allowed"), ("bounded", "must end")], mode,
                PolicyForm.text(inForce)),
            [
                "name": "\(rule.rawValue).maximum", "label": "Longest bounded assignment", "isText": true,
                "value": own?.maximumDuration?.description ?? "", "placeholder": "P180D",
            ],
        ]
    }

    private func flag(_ rule: PolicyRule, _ label: String, _ value: Bool?, _ inForce: Bool) -> [String: Any] {
        select(
            rule, rule.rawValue, label, [("", "inherit"), ("true", "yes"), ("false", "no")],
            value.map { $0 ? "true" : "false" } ?? "", inForce ? "yes" : "no")
    }

    private func select(
        _ rule: PolicyRule, _ name: String, _ label: String, _ options: [(String, String)], _ chosen: String,
        _ inForce: String
    ) -> [String: Any] {
        inForceNote(rule, inForce).merging([
            "name": name, "label": label, "isSelect": true,
            "options": options.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == chosen] },
        ]) { $1 }
    }

    private func text(
        _ rule: PolicyRule, _ name: String, _ label: String, _ value: String?, _ inForce: String, _ example: String
    ) -> [String: Any] {
        inForceNote(rule, inForce).merging([
            "name": name, "label": label, "isText": true, "value": value ?? "", "placeholder": example,
        ]) { $1 }
    }

    /// What is in force and the scope that set it (absent: the default). Mustache treats an
    /// empty string as present, so the origin is left out rather than empty.
    private func inForceNote(_ rule: PolicyRule, _ inForce: String) -> [String: Any] {
        guard let origin = effective.origins[rule] else { return ["effective": inForce, "fromDefault": true] }
        return ["effective": inForce, "origin": origin.path]
    }

    private func area(
        _ rule: PolicyRule, _ name: String, _ label: String, _ value: String?, _ inForce: String, _ example: String
    ) -> [String: Any] {
        var field = text(rule, name, label, value, inForce, example)
        field["isText"] = false
        field["isArea"] = true
        return field
    }
}
