import Foundation
import PropertyBased
import RegentAudit
import RegentCore
import RegentStore
import Testing

/// Arbitrary text: control characters (U+0000 among them), combining marks, the rest of the Basic
/// Multilingual Plane around the surrogates, and characters outside it.
let arbitraryText = Gen.oneOf(
    Gen.unicodeScalar(in: "\u{0}"..."\u{1F}"), Gen.unicodeScalar(in: "\u{20}"..."\u{7E}"),
    Gen.unicodeScalar(in: "\u{300}"..."\u{36F}"), Gen.unicodeScalar(in: "\u{80}"..."\u{D7FF}"),
    Gen.unicodeScalar(in: "\u{E000}"..."\u{FFFF}"), Gen.unicodeScalar(in: "\u{10000}"..."\u{10FFFF}")
).array(of: 0...40).map { String(String.UnicodeScalarView($0)) }

struct AuditTextPropertyTests {
    /// Whatever text goes into a hashed field, it comes back from the store byte for byte and the
    /// chain verifies: no input can make an untouched log look tampered with.
    @Test(arguments: TestDatabase.available)
    func everyHashedTextRoundTrips(database: TestDatabase) async throws {
        try await database.withStore { try await roundTrips($0) }
    }

    func roundTrips(_ store: SQLStore) async throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var appended: [AuditEvent] = []
        await propertyCheck(count: 200, input: arbitraryText, arbitraryText, arbitraryText, arbitraryText) {
            first, second, third, fourth in
            // Built key by key: arbitrary keys may coincide, which a literal would trap on.
            var details: [String: String] = [:]
            details[first] = second
            details["reason"] = fourth
            details[third] = third + String(repeating: fourth, count: 3)
            let draft = AuditDraft(
                id: UUID(), time: start.addingTimeInterval(Double(appended.count)),
                actor: AuditActor(principalId: nil, name: first, sourceAddress: second, userAgent: third),
                action: AuditAction.allCases[appended.count % AuditAction.allCases.count], outcome: .denied,
                reason: third + first, correlationId: second, details: details)
            let event = try await store.transaction { try await $0.appendAudit(draft) }
            appended.append(event)
        }
        // Very long texts as well.
        let long = String(repeating: "a\u{0}é\u{301}😀\u{1}", count: 20_000)
        appended.append(
            try await store.transaction { tx in
                try await tx.appendAudit(
                    AuditDraft(
                        id: UUID(), time: start, actor: AuditActor(principalId: nil, name: long),
                        action: .requestDenied,
                        reason: long, details: [long: long]))
            })
        let stored = try await store.transaction { try await $0.auditEvents(after: 0, limit: 1_000) }
        #expect(stored.count == appended.count)
        // Compared by hash so that a failure prints two lines, not two encodings.
        let mismatched = zip(stored, appended).filter { read, written in
            read.computedHash() != written.hash || !read.actor.name.utf8.elementsEqual(written.actor.name.utf8)
        }
        #expect(mismatched.count == 0, "events that did not round-trip: \(mismatched.map(\.0.seq))")
        let report = try await store.verifyAuditChain(trustedKey: nil)
        #expect(report.isIntact)
        #expect(report.verifiedEvents == Int64(appended.count))
    }
}
