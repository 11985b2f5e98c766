import Foundation

/// An IPv4 or IPv6 address, parsed without the platform's resolver so the core stays pure and the
/// same text always means the same address.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    public init?(_ text: String) {
        if let v4 = Self.parseV4(Substring(text)) {
            self = .v4(v4)
        } else if let (high, low) = Self.parseV6(text) {
            // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address for matching.
            if high == 0, low >> 32 == 0xffff {
                self = .v4(UInt32(truncatingIfNeeded: low))
            } else {
                self = .v6(high, low)
            }
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String(value >> (24 - 8 * $0) & 0xff) }.joined(separator: ".")
        case .v6(let high, let low):
            let groups =
                (0..<4).map { String(high >> (48 - 16 * $0) & 0xffff, radix: 16) }
                + (0..<4).map { String(low >> (48 - 16 * $0) & 0xffff, radix: 16) }
            return Self.compressed(groups)
        }
    }

    /// RFC 5952 §4.2: the longest run of two or more zero groups (the first of equal runs) becomes `::`.
    private static func compressed(_ groups: [String]) -> String {
        var best = (start: 0, length: 0)
        var index = 0
        while index < groups.count {
            var end = index
            while end < groups.count && groups[end] == "0" { end += 1 }
            if end - index > best.length { best = (index, end - index) }
            index = end + 1
        }
        guard best.length >= 2 else { return groups.joined(separator: ":") }
        let head = groups[..<best.start].joined(separator: ":")
        let tail = groups[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }

    private static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                part.count == 1 || part.first != "0", let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    private static func parseV6(_ text: String) -> (UInt64, UInt64)? {
        guard text.count <= 45, text.contains(":") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if allowV4Tail, index == pieces.count - 1, piece.contains("."), let v4 = parseV4(piece) {
                    result += [UInt16(v4 >> 16), UInt16(v4 & 0xffff)]
                } else {
                    guard (1...4).contains(piece.count), let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        var all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], allowV4Tail: false), let tail = groups(halves[1], allowV4Tail: true),
                head.count + tail.count < 8
            else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let only = groups(halves[0], allowV4Tail: true), only.count == 8 else { return nil }
            all = only
        }
        let high = all[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = all[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return (high, low)
    }
}

/// A CIDR block (`10.0.0.0/8`, `2001:db8::/32`) for conditional access on the source network.
public struct NetworkRange: Hashable, Sendable, TextCoded, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init(parsing text: String, field: String = "networks") throws(RegentError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else {
            throw .invalid(field, "'\(text)' is not an IP address or CIDR block")
        }
        let maximum = if case .v4 = address { 32 } else { 128 }
        let length: Int
        if parts.count == 1 {
            length = maximum
        } else if parts.count == 2, parts[1].allSatisfy(\.isNumber), let value = Int(parts[1]),
            (0...maximum).contains(value)
        {
            length = value
        } else {
            throw .invalid(field, "'\(text)' has an invalid prefix length")
        }
        self.address = address.masked(to: length)
        self.prefixLength = length
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4, .v4), (.v6, .v6): candidate.masked(to: prefixLength) == address
        default: false
        }
    }

    public var description: String { "\(address)/\(prefixLength)" }

    public var text: String { description }
}

extension IPAddress {
    fileprivate func masked(to length: Int) -> IPAddress {
        switch self {
        case .v4(let value):
            return .v4(length == 0 ? 0 : value & ~UInt32(0) << (32 - length))
        case .v6(let high, let low):
            let highMask: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~UInt64(0) << (64 - length))
            let lowMask: UInt64 = length <= 64 ? 0 : (length == 128 ? ~0 : ~UInt64(0) << (128 - length))
            return .v6(high & highMask, low & lowMask)
        }
    }
}
