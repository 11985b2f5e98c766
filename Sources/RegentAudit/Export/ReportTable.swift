public import Foundation

/// A report as every exporter sees it: a title, the filters that produced it, when it was made,
/// and one or more sheets of text cells. Exporters only lay it out; they never compute.
public struct ReportTable: Sendable {
    public struct Sheet: Sendable {
        public var name: String
        public var columns: [String]
        public var rows: [[String]]

        public init(name: String, columns: [String], rows: [[String]]) {
            self.name = name
            self.columns = columns
            self.rows = rows
        }
    }

    public var title: String
    public var filters: [(name: String, value: String)]
    public var generatedAt: Date
    /// The first sheet is the report; later ones are appendices (e.g. the audit checkpoints).
    public var sheets: [Sheet]

    public init(title: String, filters: [(name: String, value: String)], generatedAt: Date, sheets: [Sheet]) {
        self.title = title
        self.filters = filters
        self.generatedAt = generatedAt
        self.sheets = sheets
    }

    /// "action=request.; outcome=denied", or "none".
    public var filterLine: String {
        filters.isEmpty ? "none" : filters.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }
}

/// The formats a report can be exported in.
public enum ExportFormat: String, Sendable, CaseIterable {
    case csv, jsonl, xlsx, pdf

    public var contentType: String {
        switch self {
        case .csv: "text/csv; charset=utf-8"
        case .jsonl: "application/x-ndjson"
        case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        case .pdf: "application/pdf"
        }
    }
}

public enum ExportError: Error, Sendable {
    case archive(String)
}
