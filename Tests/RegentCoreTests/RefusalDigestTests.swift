import Foundation
import RegentCore
import RegentTestSupport
import Testing

struct RefusalDigestTests {
    let listing = RefusalDigest<String>.Key(actor: alice, operation: "listPrincipals")
    let audit = RefusalDigest<String>.Key(actor: alice, operation: "searchAudit")

    /// The first refusal of a window is recorded at once, the rest of it as one count when it
    /// closes, by the sweep or by the next refusal after it; each operation has its own window.
    @Test func firstAtOnceThenOneCountPerWindow() {
        var digest = RefusalDigest<String>(window: 60)
        #expect(digest.nextClose == nil)
        #expect(digest.refused(listing, context: "a", at: t0) == [.first(listing, "a", at: t0)])
        #expect(digest.nextClose == t0 + 60)
        #expect(digest.refused(listing, context: "b", at: t0 + 1) == [])
        #expect(digest.refused(audit, context: "c", at: t0 + 2) == [.first(audit, "c", at: t0 + 2)])
        #expect(digest.refused(listing, context: "d", at: t0 + 59) == [])
        #expect(digest.sweep(at: t0 + 59.5) == [])
        #expect(digest.sweep(at: t0 + 62) == [.repeated(listing, "a", count: 2, from: t0 + 1, to: t0 + 59)])
        #expect(digest.openCount == 0)

        #expect(digest.refused(listing, context: "e", at: t0 + 100) == [.first(listing, "e", at: t0 + 100)])
        #expect(digest.refused(listing, context: "f", at: t0 + 101) == [])
        #expect(
            digest.refused(listing, context: "g", at: t0 + 170) == [
                .repeated(listing, "e", count: 1, from: t0 + 101, to: t0 + 101), .first(listing, "g", at: t0 + 170),
            ])
        #expect(digest.sweep(at: t0 + 300) == [])
    }
}
