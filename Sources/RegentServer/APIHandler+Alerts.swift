import Foundation
import OpenAPIRuntime
import RegentAPI
import RegentCore
import RegentEngine

/// Security alerts and their rules.
extension APIHandler {
    func listAlerts(_ input: Operations.ListAlerts.Input) async throws -> Operations.ListAlerts.Output {
        let (_, actor) = try Caller.required()
        let alerts = try await engine.governance.alerts(by: actor)
        var items: [Components.Schemas.AlertView] = []
        for alert in alerts { items.append(try await view(alert)) }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func dismissAlert(_ input: Operations.DismissAlert.Input) async throws -> Operations.DismissAlert.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "a JSON body is required") }
        let alert = try await engine.governance.dismissAlert(
            try Self.rule(input.path.rule), reason: String(body.reason.prefix(2000)), by: actor)
        return .ok(.init(body: .json(try await view(alert))))
    }

    func listAlertRules(_ input: Operations.ListAlertRules.Input) async throws -> Operations.ListAlertRules.Output {
        let (_, actor) = try Caller.required()
        let settings = try await engine.governance.alertSettings(by: actor)
        return .ok(
            .init(
                body: .json(
                    .init(items: AlertRule.allCases.map { Self.view($0, settings[$0] ?? .defaults(for: $0)) }))))
    }

    func setAlertRule(_ input: Operations.SetAlertRule.Input) async throws -> Operations.SetAlertRule.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "a JSON body is required") }
        let rule = try Self.rule(input.path.rule)
        let settings = AlertSettings(
            enabled: body.enabled, count: body.count, percent: body.percent,
            window: try body.window.map { try ISODuration(parsing: $0, field: "window") }, names: body.names ?? [])
        return .ok(
            .init(
                body: .json(
                    Self.view(rule, try await engine.governance.setAlertSettings(settings, for: rule, by: actor)))))
    }

    private static func rule(_ name: Components.Schemas.AlertRuleName) throws -> AlertRule {
        guard let rule = AlertRule(rawValue: name.rawValue) else {
            throw APIProblem.invalid("rule", "no such alert rule")
        }
        return rule
    }

    private static func view(_ rule: AlertRule, _ settings: AlertSettings) -> Components.Schemas.AlertRuleView {
        .init(
            rule: .init(rawValue: rule.rawValue) ?? .tooManyAdmins, enabled: settings.enabled, count: settings.count,
            percent: settings.percent, window: settings.window?.description, names: settings.names, fix: rule.fix)
    }

    private func view(_ alert: Alert) async throws -> Components.Schemas.AlertView {
        let dismisser = try await alert.dismissal.asyncMap {
            (try? await engine.directory.principal(id: $0.by))?.name
        }
        return .init(
            rule: .init(rawValue: alert.rule.rawValue) ?? .tooManyAdmins,
            state: .init(rawValue: alert.state.rawValue) ?? .open,
            items: alert.items.map {
                .init(
                    key: $0.key, summary: $0.summary, principalId: $0.principalId?.description,
                    roleId: $0.roleId?.description)
            },
            fix: alert.rule.fix, raisedAt: alert.raisedAt, updatedAt: alert.updatedAt, dismissedBy: dismisser ?? nil,
            dismissReason: alert.dismissal?.reason, dismissedAt: alert.dismissal?.at)
    }
}
