import SQLKit

/// The one way a list query is narrowed: a fixed `SELECT`, then `AND` conditions whose SQL is
/// Regent's own text (`StaticString`: a column and an operator, never input) and whose values are
/// always bound, then an order and a page.
///
/// ```swift
/// var query = SQLListQuery("SELECT * FROM requests")
/// if let status { query.where("status =", status.rawValue) }
/// try await db.raw(query.ordered(by: "created_at DESC, id", limit: 50, offset: 0)).all()
/// ```
struct SQLListQuery {
    private var query: SQLQueryString

    init(_ select: StaticString) {
        query = SQLQueryString(String(describing: select) + " WHERE 1 = 1")
    }

    /// `AND <condition> <value>`, e.g. `where("time >=", from.milliseconds)`.
    mutating func `where`(_ condition: StaticString, _ value: some Encodable & Sendable) {
        query.appendInterpolation(unsafeRaw: " AND \(condition) ")
        query.appendInterpolation(bind: value)
    }

    /// `AND <column> IN (<values>)`; an empty list matches nothing.
    mutating func `where`(_ column: StaticString, in values: [some Encodable & Sendable]) {
        guard !values.isEmpty else {
            query.appendInterpolation(unsafeRaw: " AND 1 = 0")
            return
        }
        query.appendInterpolation(unsafeRaw: " AND \(column) IN (")
        for (index, value) in values.enumerated() {
            if index > 0 { query.appendInterpolation(unsafeRaw: ", ") }
            query.appendInterpolation(bind: value)
        }
        query.appendInterpolation(unsafeRaw: ")")
    }

    /// The query, ordered and paged (`limit` nil: every row).
    func ordered(by order: StaticString, limit: Int? = nil, offset: Int = 0) -> SQLQueryString {
        var result = query
        result.appendInterpolation(unsafeRaw: " ORDER BY \(order)")
        if let limit {
            result.appendInterpolation(unsafeRaw: " LIMIT ")
            result.appendInterpolation(bind: limit)
            result.appendInterpolation(unsafeRaw: " OFFSET ")
            result.appendInterpolation(bind: offset)
        }
        return result
    }
}
