import Foundation
import InferenceCore

/// Fuzzes what a training request's split reaches before any model is fitted: the first three
/// bytes choose the scheme, the gap (a signed byte × 64) and the fold count (255: `Int.max`), as
/// `split`, `gap` and `folds` would; the rest is a CSV whose last column is the target and whose
/// first names the time or group column.
/// Timestamp detection, the scheme's inference, the checks, the folds and the calendar features
/// of the time column all see it.
enum SplitFuzzing {
    static func run(_ input: UnsafeRawBufferPointer) {
        guard input.count > 3, let table = try? CSVReader().read(bytes: Array(input.dropFirst(3))),
              let first = table.columns.first?.name, let target = table.columns.last?.name, table.columns.count >= 2 else { return }
        let schemes: [SplitScheme?] = [nil, .random, .time, .group]
        let scheme = schemes[Int(input[0]) % schemes.count]
        // Negative and huge gaps, and more folds than rows (255: Int.max), must be refused cleanly.
        let gap = Int(Int8(bitPattern: input[1])) * 64
        let folds = input[2] == 255 ? Int.max : Int(input[2])
        let useColumn = input[0] & 0x80 != 0
        let request = SplitRequest(scheme: scheme, timeColumn: scheme == .time || useColumn && scheme == nil ? first : nil,
                                   groupColumn: scheme == .group ? first : nil, gap: gap)
        let spec = TrainingSpec(target: target, folds: folds, split: request)
        guard let prepared = try? PreparedData(table, spec: spec),
              let (splits, _) = try? FoldSplitter(plan: prepared.plan, seed: 1).split(prepared.target, table: prepared.table) else { return }
        let rows = 0..<prepared.table.rowCount
        let groups = prepared.plan.groupColumn.flatMap { try? prepared.table.column(named: $0).values }
        for fold in splits {
            // Every position is a row of the prepared table, no row is on both sides, and no
            // group either.
            precondition(fold.train.allSatisfy(rows.contains) && fold.test.allSatisfy(rows.contains))
            precondition(Set(fold.train).isDisjoint(with: fold.test))
            if let groups {
                precondition(Set(fold.train.map { groups.text(at: $0) }).isDisjoint(with: fold.test.map { groups.text(at: $0) }))
            }
        }
        if let encoder = try? Preprocessor.fit(prepared.table, features: prepared.features, options: prepared.preprocessing) {
            _ = try? encoder.transformWithWarnings(prepared.table)
        }
    }
}
