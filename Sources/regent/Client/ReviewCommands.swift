import ArgumentParser
import Foundation
import RegentAPI

/// `regent reviews`: access review definitions and occurrences (administrators), and the items
/// waiting on me.
struct Reviews: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Access reviews: define, follow, apply; list what I review.",
        subcommands: [List.self, Create.self, Instances.self, Apply.self, Mine.self], defaultSubcommand: Mine.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Review definitions (administrators, security readers).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let output = try await options.client().listReviews()
            guard case .ok(let ok) = output, case .json(let list) = ok.body else { throw refusal(output) }
            if options.json { return try printJSON(list.items) }
            printTable(
                ["NAME", "ROLES", "SCOPE", "REVIEWERS", "RECURRENCE", "DURATION", "ID"],
                list.items.map {
                    [
                        $0.name, $0.roles.isEmpty ? "all" : $0.roles.joined(separator: ","), $0.scope,
                        $0.reviewers._type, $0.recurrence, $0.duration, $0.id,
                    ]
                })
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Define an access review (administrators).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The review's name.") var name: String
        @Option(help: "A role to review (repeatable; none: every role).") var role: [String] = []
        @Option(help: "Review assignments at or below this scope.") var scope = "/"
        @Option(help: "eligible, active, or both (comma-separated).") var kinds = "eligible,active"
        @Option(help: "Reviewers: principals, managers or self.") var reviewers = "principals"
        @Option(help: "A reviewer for --reviewers principals, or the fallback (repeatable).") var reviewer: [String] =
            []
        @Option(help: "once, weekly, monthly, quarterly, semiannually or annually.") var recurrence = "once"
        @Option(help: "How long each occurrence is open, e.g. P14D.") var duration = "P14D"
        @Option(help: "Stop after this many occurrences.") var occurrences: Int?
        @Option(help: "When silent: noChange, remove, approve or recommendation.") var defaultDecision = "noChange"
        @Flag(help: "Apply the results when an occurrence ends.") var autoApply = false
        @Flag(help: "Require a justification to approve.") var justificationRequired = false
        @Option(help: "Only principals inactive for this many days.") var inactiveDays: Int?

        func run() async throws {
            guard let type = Components.Schemas.ReviewersBody._TypePayload(rawValue: reviewers),
                let recurrence = Components.Schemas.ReviewCreate.RecurrencePayload(rawValue: recurrence),
                let decision = Components.Schemas.ReviewCreate.DefaultDecisionPayload(rawValue: defaultDecision)
            else { throw Regent.fail("check --reviewers, --recurrence and --default-decision") }
            let kinds = try kinds.split(separator: ",").map { text in
                guard let kind = Components.Schemas.ReviewCreate.KindsPayloadPayload(rawValue: String(text)) else {
                    throw Regent.fail("--kinds is eligible, active or both")
                }
                return kind
            }
            let output = try await options.client().createReview(
                body: .json(
                    .init(
                        name: name, roles: role, scope: scope, kinds: kinds, inactiveDays: inactiveDays,
                        reviewers: .init(
                            _type: type, principals: type == .principals ? reviewer : nil,
                            fallback: type == .principals ? nil : reviewer),
                        recurrence: recurrence, duration: duration, occurrences: occurrences,
                        justificationRequired: justificationRequired, defaultDecision: decision, autoApply: autoApply)))
            guard case .created(let created) = output, case .json(let review) = created.body else {
                throw refusal(output)
            }
            if options.json { return try printJSON(review) }
            print("review \(review.name) \(review.id)")
        }
    }

    struct Instances: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A review's occurrences and their items.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Review id.") var review: String

        func run() async throws {
            let output = try await options.client().listReviewInstances(path: .init(reviewId: review))
            guard case .ok(let ok) = output, case .json(let list) = ok.body else { throw refusal(output) }
            if options.json { return try printJSON(list.items) }
            for instance in list.items {
                print(
                    "occurrence \(instance.occurrence) [\(instance.state.rawValue)] until \(instance.end.formatted(.iso8601)) \(instance.id)"
                )
                for item in instance.items {
                    print(
                        "  \(item.principal) \(item.role) \(item.scope) \(item.kind): recommended \(item.recommendation)"
                            + " (\(item.recommendationReason)); decided \(item.decision ?? "-")\(item.outcome.map { "; \($0)" } ?? "")"
                    )
                }
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply a completed occurrence (administrators).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Occurrence id.") var instance: String

        func run() async throws {
            let output = try await options.client().applyReview(path: .init(instanceId: instance))
            guard case .ok(let ok) = output, case .json(let applied) = ok.body else { throw refusal(output) }
            if options.json { return try printJSON(applied) }
            print("applied: \(applied.items.filter { $0.outcome == "removed" }.count) removed")
        }
    }

    struct Mine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The review items waiting on me.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let items = try await myReviewItems(options)
            if options.json { return try printJSON(items) }
            printTable(
                ["ITEM", "PRINCIPAL", "ROLE", "SCOPE", "KIND", "RECOMMENDED", "WHY", "DECIDED"],
                items.map {
                    [
                        String($0.id.prefix(8)), $0.principal, $0.role, $0.scope, $0.kind, $0.recommendation,
                        $0.recommendationReason, $0.decision ?? "-",
                    ]
                })
        }
    }
}

/// `regent review decide ITEM`: a reviewer's decision.
struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decide on a review item.", subcommands: [Decide.self])

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve, deny or dontKnow one item I review.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The item's id (or its first characters, as `regent reviews mine` shows).") var item: String
        @Option(help: "approve, deny or dontKnow.") var decision: String
        @Option(help: "Why.") var reason: String?

        func run() async throws {
            guard let verdict = Operations.DecideReviewItem.Input.Body.JsonPayload.DecisionPayload(rawValue: decision)
            else {
                throw Regent.fail("--decision is approve, deny or dontKnow")
            }
            let matches = try await myReviewItems(options).filter { $0.id.hasPrefix(item.lowercased()) }
            guard matches.count == 1, let found = matches.first else {
                throw Regent.fail(matches.isEmpty ? "no open review item \(item) is yours" : "\(item) is ambiguous")
            }
            let output = try await options.client().decideReviewItem(
                path: .init(instanceId: found.instanceId, itemId: found.id),
                body: .json(.init(decision: verdict, justification: reason)))
            guard case .ok(let ok) = output, case .json(let decided) = ok.body else { throw refusal(output) }
            if options.json { return try printJSON(decided) }
            print("\(decided.principal) \(decided.role): \(decided.decision ?? "-")")
        }
    }
}

private func myReviewItems(_ options: ClientOptions) async throws -> [Components.Schemas.ReviewItemView] {
    let output = try await options.client().listMyReviewItems()
    guard case .ok(let ok) = output, case .json(let list) = ok.body else { throw refusal(output) }
    return list.items
}
