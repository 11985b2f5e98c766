public import Foundation

/// When activation is allowed: some weekdays, between two times of day, in a named time zone
/// (so "09:00–18:00 Europe/Paris" follows daylight saving). The end is exclusive; an end before the
/// start spans midnight.
public struct TimeWindow: Hashable, Sendable, Codable {
    /// ISO weekday numbers: 1 = Monday … 7 = Sunday.
    public var days: Set<Int>
    /// Minutes after midnight.
    public var startMinute: Int
    public var endMinute: Int
    public var timeZone: String

    public init(days: Set<Int>, start: String, end: String, timeZone: String) throws(RegentError) {
        guard !days.isEmpty, days.allSatisfy((1...7).contains) else {
            throw .invalid("timeWindows", "days are ISO weekday numbers 1 (Monday) to 7 (Sunday)")
        }
        guard TimeZone(identifier: timeZone) != nil else {
            throw .invalid("timeWindows", "'\(timeZone)' is not a known time zone")
        }
        self.days = days
        self.startMinute = try Self.minute(of: start)
        self.endMinute = try Self.minute(of: end)
        self.timeZone = timeZone
        guard startMinute != endMinute else { throw .invalid("timeWindows", "a time window's start and end differ") }
    }

    private static func minute(of text: String) throws(RegentError) -> Int {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isNumber) }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), hour < 24, minute < 60
        else { throw .invalid("timeWindows", "'\(text)' is not a time of day HH:MM") }
        return hour * 60 + minute
    }

    public func contains(_ date: Date) -> Bool {
        guard let zone = TimeZone(identifier: timeZone) else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        guard let weekday = parts.weekday, let hour = parts.hour, let minute = parts.minute else { return false }
        let isoDay = (weekday + 5) % 7 + 1
        let now = hour * 60 + minute
        if startMinute < endMinute { return days.contains(isoDay) && (startMinute..<endMinute).contains(now) }
        // Spans midnight: the part after midnight belongs to the previous day's window.
        let previousDay = (isoDay + 5) % 7 + 1
        return (days.contains(isoDay) && now >= startMinute) || (days.contains(previousDay) && now < endMinute)
    }
}
