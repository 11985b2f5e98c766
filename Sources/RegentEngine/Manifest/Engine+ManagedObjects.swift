import RegentCore
import RegentStore

extension Engine {
    /// Refuses a change through the API or the portal to an object a manifest owns, unless the
    /// server allows such edits: the manifest in the repository stays the one source of truth,
    /// and an emergency edit (allowed) shows as drift in the next plan.
    func requireUnmanaged(_ key: ManifestObject.Key, in tx: StoreTransaction) async throws {
        guard configuration.managedEdits == .refuse, try await tx.isManaged(key) else { return }
        throw RegentError(
            .conflict,
            "\(key) is managed by policy as code: change the manifest and apply it (or start the server with --manifest-edits allow)"
        )
    }

    func requireUnmanagedGroup(_ id: Principal.ID, in tx: StoreTransaction) async throws {
        guard let group = try await tx.principal(id: id), group.kind == .group else { return }
        try await requireUnmanaged(ManifestObject.Key(.group, group.name), in: tx)
    }
}
