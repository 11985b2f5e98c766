import ArgumentParser
import RegentAPI

/// A documented error response of the API, which always carries a problem.
protocol ProblemCarrying { var problem: Components.Schemas.Problem? { get } }

extension Components.Responses.BadRequest: ProblemCarrying {
    var problem: Components.Schemas.Problem? { try? body.applicationProblemJson }
}
extension Components.Responses.Unauthorized: ProblemCarrying {
    var problem: Components.Schemas.Problem? { try? body.applicationProblemJson }
}
extension Components.Responses.Forbidden: ProblemCarrying {
    var problem: Components.Schemas.Problem? { try? body.applicationProblemJson }
}
extension Components.Responses.NotFound: ProblemCarrying {
    var problem: Components.Schemas.Problem? { try? body.applicationProblemJson }
}
extension Components.Responses.Conflict: ProblemCarrying {
    var problem: Components.Schemas.Problem? { try? body.applicationProblemJson }
}
extension Components.Responses.Unprocessable: ProblemCarrying {
    var problem: Components.Schemas.Problem? { try? body.applicationProblemJson }
}
extension Components.Responses.Unavailable: ProblemCarrying {
    var problem: Components.Schemas.Problem? { try? body.applicationProblemJson }
}

/// The one line to print for any unexpected output of a generated operation: the problem's title,
/// detail, field and failed rules, or the bare status when the answer was not documented.
func refusal(_ output: Any) -> ExitCode {
    guard let (label, payload) = Mirror(reflecting: output).children.first.map({ ($0.label ?? "", $0.value) }) else {
        return Regent.fail("unexpected answer from the server")
    }
    if let carrier = payload as? any ProblemCarrying, let problem = carrier.problem { return failure(problem) }
    if label == "undocumented", let status = Mirror(reflecting: payload).children.first?.value as? Int {
        return failure(status: status)
    }
    return Regent.fail("unexpected answer from the server (\(label))")
}

/// Whether the output is a 401 asking for a fresh MFA (so the CLI can prompt and retry).
func needsMFA(_ output: Any) -> Bool {
    guard let payload = Mirror(reflecting: output).children.first?.value as? any ProblemCarrying else { return false }
    return payload.problem?._type == "urn:regent:problem:mfa-required"
}
