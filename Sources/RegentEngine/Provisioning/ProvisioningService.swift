/// Provisioning: targets, the job queue that grants and revokes on them, the reconciler,
/// failing revocations, short-lived credentials, SSH certificates and role tokens.
public struct ProvisioningService: Sendable {
    let engine: Engine
}

extension Engine {
    public var provisioning: ProvisioningService { ProvisioningService(engine: self) }
}
