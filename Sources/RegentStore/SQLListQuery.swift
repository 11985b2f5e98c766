public import RegentCore
import SQLKit

/// The one way a list query is narrowed: a fixed `SELECT`, then `AND` conditions whose SQL is
/// Regent's own text (`StaticString`: a column and an operator, never input) and whose values are
/// always bound, then an order and a keyset page.
///
/// ```swift
/// var query = SQLListQuery("SELECT * FROM requests")
/// if let status { query.where("status =", status.rawValue) }
/// try await db.raw(query.page(.newestFirst, after: position, limit: 50)).all()
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

    /// `AND <condition>` with no value, e.g. `where("activated_from IS NULL")`.
    mutating func `where`(_ condition: StaticString) {
        query.appendInterpolation(unsafeRaw: " AND \(condition)")
    }

    /// `AND <column> IN (<values>)`; an empty list matches nothing. Long lists go in `slices`.
    mutating func `where`<Values: Collection>(_ column: StaticString, in values: Values)
    where Values.Element: Encodable & Sendable {
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

    /// The whole list in `order`, for lists read whole rather than paged.
    func ordered(by order: StaticString) -> SQLQueryString {
        var result = query
        result.appendInterpolation(unsafeRaw: " ORDER BY \(order)")
        return result
    }

    /// The query grouped by `column`, for aggregates.
    func grouped(by column: StaticString) -> SQLQueryString {
        var result = query
        result.appendInterpolation(unsafeRaw: " GROUP BY \(column)")
        return result
    }

    /// The query in `order`, from the item after `position` (nil: the first), at most `limit` rows
    /// (nil: every row).
    func page(_ order: SQLListOrder, after position: ListPosition?, limit: Int? = nil) -> SQLQueryString {
        var result = query
        if let position {
            result.appendInterpolation(unsafeRaw: " AND \(order.after) ")
            switch order.compared {
            case .key: result.appendInterpolation(bind: position.key)
            case .value: result.appendInterpolation(bind: position.value ?? 0)
            case .valueAndKey:
                result.appendInterpolation(unsafeRaw: "(")
                result.appendInterpolation(bind: position.value ?? 0)
                result.appendInterpolation(unsafeRaw: ", ")
                result.appendInterpolation(bind: position.key)
                result.appendInterpolation(unsafeRaw: ")")
            }
        }
        result.appendInterpolation(unsafeRaw: " ORDER BY \(order.orderBy)")
        if let limit {
            result.appendInterpolation(unsafeRaw: " LIMIT ")
            result.appendInterpolation(bind: limit)
        }
        return result
    }
}

extension StoreTransaction {
    /// `values` in slices small enough for one `IN` list on either database (each bounds how many
    /// values one statement may bind).
    static func slices<Value>(_ values: [Value], size: Int = 500) -> [ArraySlice<Value>] {
        stride(from: 0, to: values.count, by: size).map { values[$0..<min($0 + size, values.count)] }
    }
}

/// The orders lists are kept in, each with the row-value comparison that continues it after a
/// `ListPosition`, so that the order and its continuation cannot disagree.
struct SQLListOrder {
    /// What of a `ListPosition` the continuation compares.
    enum Compared { case key, value, valueAndKey }

    let orderBy: StaticString
    let after: StaticString
    let compared: Compared

    /// By a unique `name`.
    static let byName = SQLListOrder(orderBy: "name", after: "name >", compared: .key)
    /// Newest first by `created_at`, ties by `id`.
    static let newestFirst = SQLListOrder(
        orderBy: "created_at DESC, id DESC", after: "(created_at, id) <", compared: .valueAndKey)
    /// Oldest first by `created_at`, ties by `id`.
    static let oldestFirst = SQLListOrder(
        orderBy: "created_at, id", after: "(created_at, id) >", compared: .valueAndKey)
    /// The highest unique `seq` first.
    static let highestSequenceFirst = SQLListOrder(orderBy: "seq DESC", after: "seq <", compared: .value)
}
