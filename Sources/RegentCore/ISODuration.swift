public import Foundation

/// An exact ISO 8601 duration (`PT30M`, `P90D`, `P1DT2H`), kept as whole seconds. Years and months
/// are refused because their length depends on the calendar; a policy bound must mean the same
/// number of seconds every time it is read. Weeks and days are 7 × 24 h and 24 h (times are UTC).
public struct ISODuration: Hashable, Sendable, Comparable, TextCoded, CustomStringConvertible {
    public let seconds: Int64

    /// The longest duration Regent accepts anywhere (ten years), so arithmetic on dates cannot overflow.
    public static let ceiling = ISODuration(seconds: 3650 * 86_400)

    public init(seconds: Int64) { self.seconds = seconds }
    public static func minutes(_ value: Int64) -> Self { .init(seconds: value * 60) }
    public static func hours(_ value: Int64) -> Self { .init(seconds: value * 3600) }
    public static func days(_ value: Int64) -> Self { .init(seconds: value * 86_400) }

    public var timeInterval: TimeInterval { TimeInterval(seconds) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.seconds < rhs.seconds }

    /// Parses strictly: `P`, then optional `nW` or `nD`, then optional `T` with `nH`, `nM`, `nS` in
    /// that order, each at most once, at least one component, digits only, no sign or fraction.
    public init(parsing text: String, field: String = "duration") throws(RegentError) {
        var bytes = Array(text.utf8)[...]
        guard bytes.popFirst() == UInt8(ascii: "P"), !bytes.isEmpty else {
            throw .invalid(field, "'\(text)' is not an ISO 8601 duration such as PT30M or P1D")
        }
        var total: Int64 = 0
        var inTime = false
        var sawComponent = false
        var lastRank = 0
        while let first = bytes.first {
            if first == UInt8(ascii: "T") {
                guard !inTime else { throw .invalid(field, "'\(text)' has a second 'T'") }
                inTime = true
                bytes.removeFirst()
                guard !bytes.isEmpty else { throw .invalid(field, "'\(text)' ends after 'T'") }
                continue
            }
            var digits: Int64 = 0
            var digitCount = 0
            while let byte = bytes.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                guard digitCount < 12 else { throw .invalid(field, "'\(text)' has a number that is too large") }
                digits = digits * 10 + Int64(byte - UInt8(ascii: "0"))
                digitCount += 1
                bytes.removeFirst()
            }
            guard digitCount > 0, let designator = bytes.popFirst() else {
                throw .invalid(field, "'\(text)' is not an ISO 8601 duration such as PT30M or P1D")
            }
            let (rank, unit): (Int, Int64)
            switch (inTime, designator) {
            case (false, UInt8(ascii: "W")): (rank, unit) = (1, 604_800)
            case (false, UInt8(ascii: "D")): (rank, unit) = (2, 86_400)
            case (true, UInt8(ascii: "H")): (rank, unit) = (3, 3600)
            case (true, UInt8(ascii: "M")): (rank, unit) = (4, 60)
            case (true, UInt8(ascii: "S")): (rank, unit) = (5, 1)
            case (false, UInt8(ascii: "Y")), (false, UInt8(ascii: "M")):
                throw .invalid(field, "'\(text)' uses years or months, whose length varies; use days (P30D)")
            default:
                throw .invalid(field, "'\(text)' has a misplaced or unknown unit")
            }
            guard rank > lastRank, !(lastRank == 1 && rank == 2) else {
                throw .invalid(field, "'\(text)' repeats or misorders its units")
            }
            lastRank = rank
            sawComponent = true
            let (product, overflow) = digits.multipliedReportingOverflow(by: unit)
            total += product
            guard !overflow, total <= Self.ceiling.seconds else {
                throw .invalid(field, "'\(text)' is longer than ten years")
            }
        }
        guard sawComponent else { throw .invalid(field, "'\(text)' has no components") }
        self.seconds = total
    }

    /// The canonical spelling: days, then hours, minutes and seconds (`P1DT2H`, `PT0S`).
    public var description: String {
        if seconds == 0 { return "PT0S" }
        let days = seconds / 86_400
        let hours = seconds % 86_400 / 3600
        let minutes = seconds % 3600 / 60
        let secs = seconds % 60
        var text = "P"
        if days > 0 { text += "\(days)D" }
        if hours + minutes + secs > 0 {
            text += "T"
            if hours > 0 { text += "\(hours)H" }
            if minutes > 0 { text += "\(minutes)M" }
            if secs > 0 { text += "\(secs)S" }
        }
        return text
    }

    public var text: String { description }
}

extension Date {
    public static func + (date: Date, duration: ISODuration) -> Date { date.addingTimeInterval(duration.timeInterval) }
}
