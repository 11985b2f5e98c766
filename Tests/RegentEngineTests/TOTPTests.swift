import Foundation
import RegentEngine
import Testing

struct TOTPTests {
    let rfcSecret = Data("12345678901234567890".utf8)

    /// The RFC 6238 appendix B vectors (SHA-1), truncated to six digits.
    @Test(arguments: [
        (59, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"), (1_234_567_890, "005924"),
        (2_000_000_000, "279037"),
    ])
    func rfcVectors(seconds: Int, code: String) {
        let totp = TOTP(secret: rfcSecret)
        #expect(totp.code(atStep: TOTP.step(at: Date(timeIntervalSince1970: TimeInterval(seconds)))) == code)
    }

    /// A code matches within one step either side and not beyond; malformed codes never match.
    @Test func window() {
        let totp = TOTP(secret: rfcSecret)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let step = TOTP.step(at: now)
        #expect(totp.matchingStep(for: totp.code(atStep: step - 1), at: now) == step - 1)
        #expect(totp.matchingStep(for: totp.code(atStep: step + 1), at: now) == step + 1)
        #expect(totp.matchingStep(for: totp.code(atStep: step - 2), at: now) == nil)
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６"] { #expect(totp.matchingStep(for: bad, at: now) == nil) }
    }

    /// Secrets travel in unpadded RFC 4648 base32 inside an otpauth URI.
    @Test func provisioning() {
        #expect(Base32.encode(rfcSecret) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(Base32.encode(Data([0xff])) == "74")
        let uri = TOTP(secret: rfcSecret).provisioningURI(account: "alice")
        #expect(uri.hasPrefix("otpauth://totp/Regent:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Regent"))
    }

    /// Sealed secrets open with their key only, and tampering is detected.
    @Test func secretBox() throws {
        let box = SecretBox.ephemeral()
        let sealed = try box.seal(rfcSecret)
        #expect(try box.open(sealed) == rfcSecret)
        #expect(throws: SecretBoxError.cannotOpen) { try SecretBox.ephemeral().open(sealed) }
        var bytes = Data(base64Encoded: sealed)!
        bytes[bytes.count - 1] ^= 1
        #expect(throws: SecretBoxError.cannotOpen) { try box.open(bytes.base64EncodedString()) }
    }
}

struct SecretBoxFileTests {
    /// A key written at first start opens, after a restart, what was sealed before it.
    @Test func survivesReload() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("regent-secrets-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sealed = try SecretBox.loadOrCreate(in: directory).seal(Data("secret".utf8))
        #expect(try SecretBox.loadOrCreate(in: directory).open(sealed) == Data("secret".utf8))
    }
}
