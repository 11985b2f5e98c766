import Crypto
import Foundation

/// Verifies the chain one event at a time, so a log of any length is checked in constant memory.
/// It names the first record that is wrong and why.
///
/// ```swift
/// var verifier = ChainVerifier(checkpoints: checkpoints, trustedKey: key)
/// for event in events { if let problem = verifier.feed(event) { print(problem) ; break } }
/// let report = verifier.finish()
/// ```
public struct ChainVerifier: Sendable {
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public var seq: Int64
        public var reason: String
        public var description: String { "record \(seq): \(reason)" }
    }

    public struct Report: Equatable, Sendable {
        public var verifiedEvents: Int64
        public var verifiedCheckpoints: Int
        public var lastHash: String
        public var problem: Problem?
        public var isIntact: Bool { problem == nil }
    }

    private var expectedSeq: Int64 = 1
    private var previousHash = AuditEvent.genesisHash
    private var checkpoints: [Int64: Checkpoint] = [:]
    private var verifiedCheckpoints = 0
    private var problem: Problem?
    private let trustedKey: String?

    /// - Parameter trustedKey: base64 public key the checkpoints must be signed with; nil accepts the
    ///   key each checkpoint names (then only their consistency, not their origin, is proven).
    public init(checkpoints: [Checkpoint], trustedKey: String?) {
        self.trustedKey = trustedKey
        for checkpoint in checkpoints { self.checkpoints[checkpoint.seq] = checkpoint }
    }

    /// Checks the next event; returns the first problem found (and every later call returns it too).
    @discardableResult
    public mutating func feed(_ event: AuditEvent) -> Problem? {
        if let problem { return problem }
        if event.seq != expectedSeq {
            return fail(
                expectedSeq, "expected record \(expectedSeq) but found \(event.seq): records are missing or reordered")
        }
        if event.prevHash != previousHash {
            return fail(event.seq, "its previous hash does not match the record before it")
        }
        if event.computedHash() != event.hash { return fail(event.seq, "its contents do not match its hash (altered)") }
        if let checkpoint = checkpoints[event.seq] {
            if let reason = checkpointProblem(checkpoint) { return fail(event.seq, reason) }
            if checkpoint.hash != event.hash {
                return fail(event.seq, "it differs from the signed checkpoint at this record")
            }
            verifiedCheckpoints += 1
        }
        previousHash = event.hash
        expectedSeq += 1
        return nil
    }

    /// Ends the walk: a checkpoint beyond the last record means the tail was cut off.
    public mutating func finish() -> Report {
        if problem == nil, let beyond = checkpoints.keys.filter({ $0 >= expectedSeq }).min() {
            _ = fail(expectedSeq, "a signed checkpoint names record \(beyond), but the log ends before it (truncated)")
        }
        return Report(
            verifiedEvents: expectedSeq - 1, verifiedCheckpoints: verifiedCheckpoints, lastHash: previousHash,
            problem: problem)
    }

    private func checkpointProblem(_ checkpoint: Checkpoint) -> String? {
        if let trustedKey, checkpoint.publicKey != trustedKey { return "its checkpoint is signed by an unknown key" }
        guard let keyData = Data(base64Encoded: checkpoint.publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
            let signature = Data(base64Encoded: checkpoint.signature),
            key.isValidSignature(signature, for: checkpoint.signedBytes)
        else { return "its checkpoint signature is invalid" }
        return nil
    }

    private mutating func fail(_ seq: Int64, _ reason: String) -> Problem {
        let found = Problem(seq: seq, reason: reason)
        problem = found
        return found
    }
}
