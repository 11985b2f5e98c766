import Foundation
import Testing

@testable import RegentEngine

/// What the SMTP client writes: nothing a recipient or subject contains can add a header or an
/// SMTP command, and the body arrives unchanged whatever it contains.
struct SMTPMessageTests {
    @Test(arguments: [
        "alice@example.com", "a.b+c@sub.example.org",
    ])
    func addressesAccepted(address: String) { #expect(SMTPClient.isAddress(address)) }

    @Test(arguments: [
        "", "alice", "@example.com", "alice@", "a@b@c", "alice@example.com\r\nRCPT TO:<eve@example.com>",
        "alice <alice@example.com>", "al ice@example.com", "alice@exämple.com",
    ])
    func addressesRefused(address: String) { #expect(!SMTPClient.isAddress(address)) }

    @Test func messageCannotBeInjected() throws {
        let body = "line one\r\n.\r\nQUIT\r\nünïcode ✓"
        let text = SMTPClient.message(
            .init(to: "alice@example.com", subject: "Approval\r\nBcc: eve@example.com", body: body, messageId: "m1"),
            from: "regent@example.com", date: Date(timeIntervalSince1970: 0))
        let (head, encoded) = try #require(
            text.range(of: "\r\n\r\n").map { (text[..<$0.lowerBound], text[$0.upperBound...]) })
        let headers = head.components(separatedBy: "\r\n")
        #expect(!headers.contains { $0.hasPrefix("Bcc") })
        #expect(headers.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
        let subject = try #require(headers.first { $0.hasPrefix("Subject: =?UTF-8?B?") })
        let decoded = Data(base64Encoded: String(subject.dropFirst("Subject: =?UTF-8?B?".count).dropLast(2)))
        #expect(decoded.map { String(decoding: $0, as: UTF8.self) } == "Approval  Bcc: eve@example.com")
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.count <= 76 && !$0.hasPrefix(".") })
        let bodyData = try #require(Data(base64Encoded: lines.joined()))
        #expect(String(decoding: bodyData, as: UTF8.self) == body)
    }
}
