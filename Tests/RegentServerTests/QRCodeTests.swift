import Foundation
import Testing

@testable import RegentServer

/// The QR encoder's structure; whether readers read it is checked end to end with zxing-cpp.
struct QRCodeTests {
    /// The smallest version that holds the text is chosen (21 + 4 per version modules a side).
    @Test(arguments: [(10, 21), (80, 37), (120, 45), (150, 49), (200, 57)])
    func version(length: Int, size: Int) throws {
        let code = try QRCode(String(repeating: "a", count: length))
        #expect(code.size == size)
    }

    @Test func tooLong() {
        #expect(throws: QRCode.QRError.tooLong) { try QRCode(String(repeating: "a", count: 214)) }
    }

    /// Finder patterns sit in three corners, with their light separators.
    @Test func finders() throws {
        let code = try QRCode("otpauth://totp/Regent:alice?secret=ABC&issuer=Regent")
        for (x, y) in [(0, 0), (code.size - 7, 0), (0, code.size - 7)] {
            #expect(code.modules[y][x] && code.modules[y + 6][x + 6] && !code.modules[y + 1][x + 1])
            #expect(code.modules[y + 3][x + 3])
        }
        #expect(!code.modules[7][7])
    }
}
