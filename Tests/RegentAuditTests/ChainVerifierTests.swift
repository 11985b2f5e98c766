import Foundation
import RegentAudit
import RegentCore
import RegentTestSupport
import Testing

struct ChainVerifierTests {
    static let start = t0

    func chain(_ count: Int) -> [AuditEvent] {
        var events: [AuditEvent] = []
        var previous = AuditEvent.genesisHash
        for n in 1...count {
            let event = AuditEvent(
                seq: Int64(n),
                draft: AuditDraft(
                    id: UUID(), time: Self.start.addingTimeInterval(Double(n)),
                    actor: AuditActor(principalId: nil, name: "alice"),
                    action: .requestCreated, subject: AuditSubject(scope: .root), reason: n % 2 == 0 ? "even" : nil,
                    details: ["n": String(n)]),
                prevHash: previous)
            previous = event.hash
            events.append(event)
        }
        return events
    }

    func verify(_ events: [AuditEvent], checkpoints: [Checkpoint] = [], key: String? = nil) -> ChainVerifier.Report {
        var verifier = ChainVerifier(checkpoints: checkpoints, trustedKey: key)
        for event in events { verifier.feed(event) }
        return verifier.finish()
    }

    /// An untouched chain verifies, checkpoints included.
    @Test func intactChain() throws {
        let signer = AuditSigner.generate()
        let events = chain(50)
        let checkpoint = try signer.checkpoint(seq: 25, hash: events[24].hash, time: Self.start)
        let report = verify(events, checkpoints: [checkpoint], key: signer.publicKeyBase64)
        #expect(report.isIntact)
        #expect(report.verifiedEvents == 50)
        #expect(report.verifiedCheckpoints == 1)
        #expect(report.lastHash == events[49].hash)
    }

    /// Altering any field of a record is caught at that record.
    @Test func alteredRecord() {
        var events = chain(10)
        events[6].details["n"] = "666"
        #expect(verify(events).problem?.seq == 7)
        var rewritten = chain(10)
        rewritten[3].outcome = .denied
        #expect(verify(rewritten).problem?.seq == 4)
    }

    /// A record rewritten with a recomputed hash still breaks the next link.
    @Test func rehashedRecordBreaksNextLink() {
        var events = chain(10)
        events[4].reason = "nothing to see"
        events[4].hash = events[4].computedHash()
        let problem = verify(events).problem
        #expect(problem?.seq == 6)
        #expect(problem?.reason.contains("previous hash") == true)
    }

    /// Removed or reordered records are named.
    @Test func removedAndReordered() {
        var removed = chain(10)
        removed.remove(at: 3)
        #expect(verify(removed).problem?.seq == 4)
        var swapped = chain(10)
        swapped.swapAt(2, 3)
        #expect(verify(swapped).problem?.seq == 3)
    }

    /// A cut-off tail is revealed by a signed checkpoint beyond it; a forged checkpoint is refused.
    @Test func truncationAndForgedCheckpoint() throws {
        let signer = AuditSigner.generate()
        let events = chain(20)
        let checkpoint = try signer.checkpoint(seq: 20, hash: events[19].hash, time: Self.start)
        let truncated = verify(Array(events.prefix(15)), checkpoints: [checkpoint], key: signer.publicKeyBase64)
        #expect(truncated.problem?.seq == 16)
        let forger = AuditSigner.generate()
        let forged = try forger.checkpoint(seq: 20, hash: events[19].hash, time: Self.start)
        #expect(verify(events, checkpoints: [forged], key: signer.publicKeyBase64).problem?.seq == 20)
        var tampered = checkpoint
        tampered.hash = events[18].hash
        #expect(verify(events, checkpoints: [tampered], key: nil).problem?.seq == 20)
    }

    /// The canonical encoding is unambiguous: moving text between fields changes the hash.
    @Test func canonicalEncodingIsUnambiguous() {
        func event(reason: String?, correlation: String?) -> AuditEvent {
            AuditEvent(
                seq: 1,
                draft: AuditDraft(
                    id: UUID(uuidString: "00000000-0000-0000-0000-000000000001")!, time: Self.start,
                    actor: AuditActor(principalId: nil, name: "a"), action: .requestCreated, reason: reason,
                    correlationId: correlation),
                prevHash: AuditEvent.genesisHash)
        }
        #expect(event(reason: "ab", correlation: nil).hash != event(reason: "a", correlation: "b").hash)
        #expect(event(reason: nil, correlation: "").hash != event(reason: "", correlation: nil).hash)
        #expect(event(reason: "ab", correlation: nil).hash == event(reason: "ab", correlation: nil).hash)
    }
}
