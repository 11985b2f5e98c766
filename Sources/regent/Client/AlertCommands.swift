import ArgumentParser
import Foundation
import RegentAPI

/// `regent alerts`: security alerts, dismissing them, and their rules' thresholds.
struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Security alerts: list, dismiss, and set the rules.",
        subcommands: [List.self, Dismiss.self, Rules.self, SetRule.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Alerts with their items and what to do (administrators, security readers).")
        @OptionGroup var options: ClientOptions
        @Flag(help: "Resolved alerts too.") var all = false

        func run() async throws {
            let output = try await options.client().listAlerts()
            guard case .ok(let ok) = output, case .json(let list) = ok.body else { throw refusal(output) }
            let alerts = list.items.filter { all || $0.state != .resolved }
            if options.json { return try printJSON(alerts) }
            if alerts.isEmpty { return print("no alert") }
            for alert in alerts {
                print("\(alert.rule.rawValue) [\(alert.state.rawValue)] since \(alert.raisedAt.formatted(.iso8601))")
                if let reason = alert.dismissReason { print("  dismissed by \(alert.dismissedBy ?? "?"): \(reason)") }
                for item in alert.items { print("  - \(item.summary)") }
                print("  fix: \(alert.fix)")
            }
        }
    }

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dismiss an open alert with a reason; it reopens when something new appears.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The alert's rule, e.g. breakGlassUsed.") var rule: String
        @Option(help: "Why it is dismissed (audited).") var reason: String

        func run() async throws {
            let output = try await options.client().dismissAlert(
                path: .init(rule: try ruleName(rule)), body: .json(.init(reason: reason)))
            guard case .ok(let ok) = output, case .json(let alert) = ok.body else { throw refusal(output) }
            if options.json { return try printJSON(alert) }
            print("\(alert.rule.rawValue) dismissed")
        }
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The alert rules and their thresholds.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let output = try await options.client().listAlertRules()
            guard case .ok(let ok) = output, case .json(let list) = ok.body else { throw refusal(output) }
            if options.json { return try printJSON(list.items) }
            printTable(
                ["RULE", "ON", "COUNT", "PERCENT", "WINDOW", "NAMES"],
                list.items.map {
                    [
                        $0.rule.rawValue, $0.enabled ? "yes" : "no", $0.count.map(String.init) ?? "",
                        $0.percent.map(String.init) ?? "", $0.window ?? "", $0.names.joined(separator: ","),
                    ]
                })
        }
    }

    struct SetRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Turn a rule on or off and set its thresholds (administrators).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The rule, e.g. tooManyAdmins.") var rule: String
        @Option(help: "on or off.") var enabled: String = "on"
        @Option(help: "A count threshold.") var count: Int?
        @Option(help: "A percentage threshold.") var percent: Int?
        @Option(help: "A window, e.g. P30D.") var window: String?
        @Option(help: "Exempt roles or break-glass accounts, comma-separated.") var names: String?

        func run() async throws {
            guard ["on", "off"].contains(enabled) else { throw Regent.fail("--enabled is on or off") }
            let rule = try ruleName(rule)
            let client = try options.client()
            // What is not given stays as it is.
            let listed = try await client.listAlertRules()
            guard case .ok(let ok) = listed, case .json(let rules) = ok.body,
                let current = rules.items.first(where: { $0.rule == rule })
            else { throw refusal(listed) }
            let output = try await client.setAlertRule(
                path: .init(rule: rule),
                body: .json(
                    .init(
                        enabled: enabled == "on", count: count ?? current.count, percent: percent ?? current.percent,
                        window: window ?? current.window,
                        names: names.map { $0.split(separator: ",").map(String.init) } ?? current.names)))
            guard case .ok(let ok) = output, case .json(let view) = ok.body else { throw refusal(output) }
            if options.json { return try printJSON(view) }
            print("\(view.rule.rawValue) \(view.enabled ? "on" : "off")")
        }
    }
}

private func ruleName(_ text: String) throws -> Components.Schemas.AlertRuleName {
    guard let name = Components.Schemas.AlertRuleName(rawValue: text) else {
        throw Regent.fail(
            "unknown alert rule \(text); one of "
                + Components.Schemas.AlertRuleName.allCases.map(\.rawValue).joined(separator: ", "))
    }
    return name
}
