import ArgumentParser
import Foundation
import RegentAPI

/// `1h`, `30m`, `1h30m`, `2d` or an ISO 8601 duration (`PT1H`), as the API wants it.
func isoDuration(_ text: String) throws -> String {
    if text.uppercased().hasPrefix("P") { return text.uppercased() }
    var days = 0
    var time = ""
    var number = ""
    for character in text.lowercased() {
        if character.isNumber {
            number.append(character)
            continue
        }
        guard !number.isEmpty, let value = Int(number) else {
            throw Regent.fail("--duration takes 30m, 1h, 1h30m, 2d or PT1H")
        }
        switch character {
        case "d": days += value
        case "h": time += "\(value)H"
        case "m": time += "\(value)M"
        case "s": time += "\(value)S"
        default: throw Regent.fail("--duration takes 30m, 1h, 1h30m, 2d or PT1H")
        }
        number = ""
    }
    guard number.isEmpty, days > 0 || !time.isEmpty else {
        throw Regent.fail("--duration takes 30m, 1h, 1h30m, 2d or PT1H")
    }
    return "P" + (days > 0 ? "\(days)D" : "") + (time.isEmpty ? "" : "T" + time)
}

func show(_ request: Components.Schemas.Request, options: ClientOptions) throws {
    if options.json { return try printJSON(request) }
    var line = "request \(request.id): \(request.status.rawValue)"
    if let reason = request.reason { line += " (\(reason))" }
    print(line)
}

struct Activate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Activate an eligible role just in time; asks for a TOTP code when the policy wants a fresh one.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Role name or id.") var role: String
    @Option(help: "Scope, e.g. /prod/db.") var scope = "/"
    @Option(help: "How long: 30m, 1h, PT1H. Default: the policy's maximum.") var duration: String?
    @Option(help: "Justification.") var reason: String?
    @Option(help: "Ticket as SYSTEM:NUMBER, e.g. jira:INC-42.") var ticket: String?
    @Option(help: "A TOTP code for the policy's fresh-MFA rule.") var otp: String?

    func run() async throws {
        var ticketBody: Components.Schemas.Ticket?
        if let ticket {
            let parts = ticket.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { throw Regent.fail("--ticket takes SYSTEM:NUMBER, e.g. jira:INC-42") }
            ticketBody = .init(system: String(parts[0]), number: String(parts[1]))
        }
        let body = Components.Schemas.RequestCreate(
            action: .selfActivate, roleId: role, scope: scope, duration: try duration.map(isoDuration),
            justification: reason,
            ticket: ticketBody)
        var output = try await options.client(otp: otp).createRequest(body: .json(body))
        if needsMFA(output), otp == nil, isatty(0) == 1 {
            output = try await options.client(otp: readSecret("TOTP code: ")).createRequest(body: .json(body))
        }
        guard case .created(let created) = output, case .json(let request) = created.body else { throw refusal(output) }
        try show(request, options: options)
    }
}

struct Decide: ParsableArguments {
    @OptionGroup var options: ClientOptions
    @Argument(help: "Request id.") var id: String
    @Option(help: "Justification for the decision.") var reason: String?
}

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Approve the current stage of a request waiting on you.")
    @OptionGroup var decision: Decide

    func run() async throws {
        let output = try await decision.options.client().approveRequest(
            path: .init(requestId: decision.id), body: .json(.init(justification: decision.reason)))
        guard case .ok(let ok) = output, case .json(let request) = ok.body else { throw refusal(output) }
        try show(request, options: decision.options)
    }
}

struct Deny: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deny a request waiting on you.")
    @OptionGroup var decision: Decide

    func run() async throws {
        let output = try await decision.options.client().denyRequest(
            path: .init(requestId: decision.id), body: .json(.init(justification: decision.reason)))
        guard case .ok(let ok) = output, case .json(let request) = ok.body else { throw refusal(output) }
        try show(request, options: decision.options)
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Withdraw your own request while it waits.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Request id.") var id: String

    func run() async throws {
        let output = try await options.client().cancelRequest(path: .init(requestId: id))
        guard case .ok(let ok) = output, case .json(let request) = ok.body else { throw refusal(output) }
        try show(request, options: options)
    }
}

struct Requests: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List requests: yours, those awaiting you, or (admins) all.")
    @OptionGroup var options: ClientOptions
    @Flag(help: "Only requests you filed.") var mine = false
    @Flag(help: "Only requests waiting for your decision.") var awaiting = false

    func run() async throws {
        let output = try await options.client().listRequests(query: .init(mine: mine, awaitingMe: awaiting))
        guard case .ok(let ok) = output, case .json(let page) = ok.body else { throw refusal(output) }
        if options.json { return try printJSON(page.items) }
        printTable(
            ["ID", "ACTION", "STATUS", "PRINCIPAL", "ROLE", "SCOPE", "DURATION"],
            page.items.map {
                [
                    $0.id, $0.action.rawValue, $0.status.rawValue, $0.principalId, $0.roleId, $0.scope,
                    $0.duration ?? "-",
                ]
            })
    }
}

struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Assign a role to a principal (administrators).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Principal name or id.") var principal: String
    @Argument(help: "Role name or id.") var role: String
    @Option(help: "Scope.") var scope = "/"
    @Option(help: "eligible or active.") var kind = "eligible"
    @Option(help: "How long; absent: permanent where the policy allows it.") var duration: String?
    @Option(help: "Justification.") var reason: String?

    func run() async throws {
        guard let assignmentKind = Components.Schemas.AssignmentKind(rawValue: kind) else {
            throw Regent.fail("--kind is eligible or active")
        }
        let output = try await options.client().createRequest(
            body: .json(
                .init(
                    action: .adminAssign, principalId: principal, roleId: role, scope: scope, kind: assignmentKind,
                    duration: try duration.map(isoDuration), justification: reason)))
        guard case .created(let created) = output, case .json(let request) = created.body else { throw refusal(output) }
        try show(request, options: options)
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Is PRINCIPAL's ROLE active at SCOPE now? Exits 0 when active, 1 when not.")
    @OptionGroup var options: ClientOptions
    @Argument var principal: String
    @Argument var role: String
    @Argument var scope: String

    func run() async throws {
        let output = try await options.client().check(query: .init(principal: principal, role: role, scope: scope))
        guard case .ok(let ok) = output, case .json(let answer) = ok.body else { throw refusal(output) }
        if options.json {
            try printJSON(answer)
        } else {
            print(
                answer.active
                    ? "active" + (answer.until.map { " until \($0.formatted(.iso8601))" } ?? " (permanent)")
                    : "not active")
        }
        if !answer.active { throw ExitCode.failure }
    }
}

/// The caller's own live assignment of `role` at `scope` (an activation when `activation`), and who
/// the caller is.
func myAssignment(_ client: Client, role: String, scope: String) async throws
    -> (Components.Schemas.Principal, Components.Schemas.Assignment)
{
    let me = try await client.getMe()
    guard case .ok(let meOK) = me, case .json(let principal) = meOK.body else { throw refusal(me) }
    let listed = try await client.listAssignments(
        query: .init(principal: principal.id, role: role, kind: .active, state: .active))
    guard case .ok(let ok) = listed, case .json(let page) = ok.body else { throw refusal(listed) }
    guard let activation = page.items.first(where: { $0.scope == scope && $0.activatedFrom != nil }) else {
        throw Regent.fail("you have no activation of \(role) at \(scope)")
    }
    return (principal, activation)
}

struct Deactivate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End your own activation of a role now.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Role name or id.") var role: String
    @Option(help: "Scope of the activation.") var scope = "/"

    func run() async throws {
        let client = try options.client()
        let (principal, activation) = try await myAssignment(client, role: role, scope: scope)
        let output = try await client.createRequest(
            body: .json(
                .init(
                    action: .selfDeactivate, principalId: principal.id, roleId: activation.roleId, scope: scope,
                    kind: .active,
                    assignmentId: activation.id)))
        guard case .created(let created) = output, case .json(let request) = created.body else { throw refusal(output) }
        try show(request, options: options)
    }
}

struct Extend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Extend your own activation, within the policy's maximum.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Role name or id.") var role: String
    @Option(help: "Scope of the activation.") var scope = "/"
    @Option(help: "How much longer: 30m, 1h, PT1H.") var duration: String
    @Option(help: "Justification.") var reason: String?
    @Option(help: "A TOTP code for the policy's fresh-MFA rule.") var otp: String?

    func run() async throws {
        let client = try options.client(otp: otp)
        let (principal, activation) = try await myAssignment(client, role: role, scope: scope)
        let output = try await client.createRequest(
            body: .json(
                .init(
                    action: .selfExtend, principalId: principal.id, roleId: activation.roleId, scope: scope,
                    kind: .active,
                    assignmentId: activation.id, duration: try isoDuration(duration), justification: reason)))
        guard case .created(let created) = output, case .json(let request) = created.body else { throw refusal(output) }
        try show(request, options: options)
    }
}

struct Unassign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a principal's assignment of a role (administrators).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Principal name or id.") var principal: String
    @Argument(help: "Role name or id.") var role: String
    @Option(help: "Scope.") var scope = "/"
    @Option(help: "eligible or active.") var kind = "eligible"
    @Option(help: "Justification.") var reason: String?

    func run() async throws {
        guard let assignmentKind = Components.Schemas.AssignmentKind(rawValue: kind) else {
            throw Regent.fail("--kind is eligible or active")
        }
        let client = try options.client()
        let listed = try await client.listAssignments(
            query: .init(principal: principal, role: role, kind: assignmentKind))
        guard case .ok(let ok) = listed, case .json(let page) = ok.body else { throw refusal(listed) }
        guard let assignment = page.items.first(where: { $0.scope == scope && $0.state != .ended }) else {
            throw Regent.fail("\(principal) has no \(kind) assignment of \(role) at \(scope)")
        }
        let output = try await client.createRequest(
            body: .json(
                .init(
                    action: .adminRemove, principalId: assignment.principalId, roleId: assignment.roleId, scope: scope,
                    kind: assignmentKind, assignmentId: assignment.id, justification: reason)))
        guard case .created(let created) = output, case .json(let request) = created.body else { throw refusal(output) }
        try show(request, options: options)
    }
}
