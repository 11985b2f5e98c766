import Crypto
public import Foundation

/// RFC 6238 time-based one-time passwords (HMAC-SHA1, 30-second steps, 6 digits), computed on the
/// binary secret as authenticator apps do.
public struct TOTP: Sendable {
    public static let period: TimeInterval = 30
    public static let digits = 6

    public let secret: Data

    public init(secret: Data) { self.secret = secret }

    /// 20 random bytes, the size RFC 4226 recommends.
    public static func generateSecret() -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    public static func step(at time: Date) -> Int64 { Int64((time.timeIntervalSince1970 / period).rounded(.down)) }

    public func code(atStep step: Int64) -> String {
        let counter = withUnsafeBytes(of: UInt64(bitPattern: step).bigEndian) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: counter, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let value =
            (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8)
            | UInt32(mac[offset + 3])
        let text = String(value % 1_000_000)
        return String(repeating: "0", count: Self.digits - text.count) + text
    }

    /// The step whose code matches, within one step either side of `time`; nil if none does.
    public func matchingStep(for code: String, at time: Date) -> Int64? {
        guard code.count == Self.digits, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else { return nil }
        let now = Self.step(at: time)
        return [now, now - 1, now + 1].first { self.code(atStep: $0) == code }
    }

    /// `otpauth://` URI for authenticator apps, with the secret in unpadded base32.
    public func provisioningURI(account: String, issuer: String = "Regent") -> String {
        let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        func encode(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "" }
        let label = "\(encode(issuer)):\(encode(account))"
        return
            "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(encode(issuer))&algorithm=SHA1&digits=6&period=30"
    }
}

/// RFC 4648 base32 without padding, as `otpauth://` URIs carry secrets.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    public static func encode(_ data: Data) -> String {
        var output = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in data {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int(buffer >> UInt32(bits - 5) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int(buffer << UInt32(5 - bits) & 31)]) }
        return output
    }
}
