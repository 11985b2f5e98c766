import Foundation

/// The SSH wire encoding (RFC 4251 §5): big-endian integers and length-prefixed strings, as
/// OpenSSH's certificate (PROTOCOL.certkeys) and revocation list (PROTOCOL.krl) formats use it.
struct SSHWriter {
    private(set) var data = Data()

    mutating func byte(_ value: UInt8) { data.append(value) }

    mutating func uint32(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) } }

    mutating func uint64(_ value: UInt64) { withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) } }

    mutating func string(_ bytes: Data) {
        uint32(UInt32(bytes.count))
        data.append(bytes)
    }

    mutating func string(_ text: String) { string(Data(text.utf8)) }
}

/// Reads the same encoding; every read checks the remaining length, so a hostile key is refused.
struct SSHReader {
    private var rest: Data.SubSequence

    init(_ data: Data) { rest = data[...] }

    var isAtEnd: Bool { rest.isEmpty }

    mutating func uint32() -> UInt32? {
        guard rest.count >= 4 else { return nil }
        let value = rest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        rest = rest.dropFirst(4)
        return value
    }

    mutating func string() -> Data? {
        guard let length = uint32(), rest.count >= Int(length) else { return nil }
        let value = Data(rest.prefix(Int(length)))
        rest = rest.dropFirst(Int(length))
        return value
    }
}
