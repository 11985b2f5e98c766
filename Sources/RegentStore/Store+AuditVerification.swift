public import RegentAudit

extension Store {
    /// Walks the whole audit log in batches (constant memory) and verifies the chain and the
    /// signed checkpoints, stopping at the first bad record.
    public func verifyAuditChain(trustedKey: String?, batchSize: Int = 5000) async throws -> ChainVerifier.Report {
        var verifier = ChainVerifier(
            checkpoints: try await transaction { try await $0.checkpoints() }, trustedKey: trustedKey)
        var after: Int64 = 0
        while true {
            let from = after
            let batch = try await transaction { try await $0.auditEvents(after: from, limit: batchSize) }
            guard let last = batch.last else { break }
            for event in batch where verifier.feed(event) != nil { return verifier.finish() }
            after = last.seq
        }
        return verifier.finish()
    }
}
