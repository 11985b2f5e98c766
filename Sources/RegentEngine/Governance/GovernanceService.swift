/// Governance: access reviews (definitions, occurrences, decisions, applying results), security
/// alerts (settings, evaluation, dismissal) and the digest of refused reads.
public struct GovernanceService: Sendable {
    let engine: Engine
}

extension Engine {
    public var governance: GovernanceService { GovernanceService(engine: self) }
}
