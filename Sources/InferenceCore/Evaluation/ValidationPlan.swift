/// How the rows are split into training and test folds.
public enum SplitScheme: String, Sendable, Codable, CaseIterable {
    /// Shuffled folds, stratified by class for classification: for rows that are independent.
    case random
    /// Expanding window in time order: each test fold is later than all of its training rows.
    case time
    /// Every row of a group (a batch, a machine, a customer) on one side of each split.
    case group
}

/// What the person asked for; unset fields are inferred from the table by ``ValidationPlan``.
public struct SplitRequest: Sendable, Equatable, Codable {
    /// `nil`: inferred (time order for a table with exactly one timestamp column).
    public var scheme: SplitScheme?
    public var timeColumn: String?
    public var groupColumn: String?
    /// Time splits: rows left out between the training rows and the test fold.
    public var gap: Int

    enum CodingKeys: String, CodingKey {
        case scheme = "split"
        case timeColumn = "time_column"
        case groupColumn = "group_column"
        case gap
    }

    public init(scheme: SplitScheme? = nil, timeColumn: String? = nil, groupColumn: String? = nil, gap: Int = 0) {
        self.scheme = scheme
        self.timeColumn = timeColumn
        self.groupColumn = groupColumn
        self.gap = gap
    }
}

/// The validation a model's figures come from: stored in the model file, shown on its card.
public struct ValidationPlan: Sendable, Codable, Equatable {
    public var scheme: SplitScheme
    public var folds: Int
    public var timeColumn: String?
    public var groupColumn: String?
    public var gap: Int
    /// Time splits on a text column: how its cells are written, found on the whole column (so
    /// that the rows a fold sees are read the same way).
    public var timeFormat: TimestampFormat?
    /// Why this scheme, in words for the person reading the card.
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case scheme, folds, gap, reason
        case timeColumn = "time_column"
        case groupColumn = "group_column"
        case timeFormat = "time_format"
    }

    public init(scheme: SplitScheme, folds: Int, timeColumn: String? = nil, groupColumn: String? = nil, gap: Int = 0, reason: String) {
        self.scheme = scheme
        self.folds = folds
        self.timeColumn = timeColumn
        self.groupColumn = groupColumn
        self.gap = gap
        self.reason = reason
    }

    /// Shuffled folds, for tables whose rows are independent.
    public static func random(folds: Int, reason: String = "random folds were asked for") -> ValidationPlan {
        ValidationPlan(scheme: .random, folds: folds, reason: reason)
    }

    /// Resolves `request` against `table`: checks the named columns and the gap, and infers the
    /// scheme when none was asked for.
    /// - Parameter target: the target column, never a time or group column.
    public init(_ request: SplitRequest, folds: Int, table: DataTable, target: String) throws {
        for name in [request.timeColumn, request.groupColumn].compactMap({ $0 }) {
            _ = try table.column(named: name)
            if name == target {
                throw TestbedError(.invalidParameter, "'\(name.clipped())' is the target; a time or group column must be another column")
            }
        }
        guard request.gap >= 0 else {
            throw TestbedError(.invalidParameter, "gap == \(request.gap), must be >= 0 (rows left out between training and test in time order)")
        }
        let timestamps = table.columns.filter { $0.name != target && ColumnKind.infer($0.values) == .timestamp }.map(\.name)
        switch request.scheme {
        case .random?:
            self = .random(folds: folds)
        case .group?:
            guard let group = request.groupColumn else {
                throw TestbedError(.invalidParameter, "a group split needs the column that names each row's group (group_column / --group-column); columns: \(table.columnNames.joined(separator: ", "))")
            }
            self.init(scheme: .group, folds: folds, groupColumn: group, reason: "group split was asked for: all rows of one '\(group)' stay on the same side")
        case .time?:
            let time = try request.timeColumn ?? Self.onlyTimestamp(timestamps)
            self.init(scheme: .time, folds: folds, timeColumn: time, gap: request.gap, reason: "time order was asked for: each test fold is later than all of its training rows, by '\(time)'")
        case nil:
            if let group = request.groupColumn {
                self.init(scheme: .group, folds: folds, groupColumn: group, reason: "a group column was named: all rows of one '\(group)' stay on the same side")
            } else if let time = request.timeColumn {
                self.init(scheme: .time, folds: folds, timeColumn: time, gap: request.gap, reason: "a time column was named: each test fold is later than all of its training rows, by '\(time)'")
            } else if timestamps.count == 1 {
                self.init(scheme: .time, folds: folds, timeColumn: timestamps[0], gap: request.gap,
                          reason: "'\(timestamps[0])' is the table's only timestamp column, so the rows are taken as a log; random folds would score the model on rows recorded next to rows it learned from")
            } else if timestamps.count > 1 {
                self = .random(folds: folds, reason: "random folds: the table has \(timestamps.count) timestamp columns (\(timestamps.joined(separator: ", "))); name one as the time column for time order")
            } else {
                self = .random(folds: folds, reason: "random folds: the table has no timestamp column and no group column was named")
            }
        }
        if request.gap > 0 && scheme != .time {
            throw TestbedError(.invalidParameter, "gap == \(request.gap) applies to time splits only, and this split is \(scheme.rawValue) (\(reason))")
        }
        try Self.checkColumns(request, scheme: scheme)
        if scheme == .time, let name = timeColumn, case .text(let codes, let levels) = try table.column(named: name).values {
            guard let times = TimestampParser.column(codes: codes, levels: levels) else {
                throw Self.notTimes(name, first: levels.first)
            }
            timeFormat = times.format
        }
    }

    /// Refuses a time or group column given for a split that does not use it: silently
    /// ignoring it would validate the model another way than the person asked.
    public static func checkColumns(_ request: SplitRequest, scheme: SplitScheme) throws {
        if let group = request.groupColumn, scheme != .group {
            throw TestbedError(.invalidParameter, "a group column ('\(group.clipped())') was given for a \(scheme.rawValue) split; leave it out, or ask for split 'group'")
        }
        if let time = request.timeColumn, scheme != .time {
            throw TestbedError(.invalidParameter, "a time column ('\(time.clipped())') was given for a \(scheme.rawValue) split; leave it out, or ask for split 'time'")
        }
    }

    /// The scheme a request comes to on a table with these timestamp columns: as asked, or a
    /// group split when a group column is named, time order when a time column is named or
    /// the table has exactly one timestamp column, random folds otherwise.
    public static func scheme(for request: SplitRequest, timestampColumns: [String]) -> SplitScheme {
        request.scheme ?? (request.groupColumn != nil ? .group : request.timeColumn != nil || timestampColumns.count == 1 ? .time : .random)
    }

    static func notTimes(_ name: String, first: String?) -> TestbedError {
        let example = first.map { " (such as '\($0.clipped(to: 40))')" } ?? ""
        return TestbedError(.invalidParameter, "the time column '\(name.clipped())' cannot be read as times\(example); expected dates or date-times such as 2026-01-05 13:45:00 or 05.01.2026, or numbers")
    }

    private static func onlyTimestamp(_ timestamps: [String]) throws -> String {
        guard timestamps.count == 1 else {
            throw TestbedError(.invalidParameter, timestamps.isEmpty
                ? "a time split needs a time column and the table has no timestamp column; name a column with the times (time_column / --time-column)"
                : "the table has \(timestamps.count) timestamp columns (\(timestamps.joined(separator: ", "))); name one (time_column / --time-column)")
        }
        return timestamps[0]
    }

    /// One line for a report: the scheme and why.
    public var summary: String {
        switch scheme {
        case .random: return "\(folds) random folds (\(reason))"
        case .time: return "\(folds) time-ordered folds by '\(timeColumn ?? "")'\(gap > 0 ? ", gap \(gap) rows" : "") (\(reason))"
        case .group: return "\(folds) group folds by '\(groupColumn ?? "")' (\(reason))"
        }
    }
}
