#if FUZZING
import Foundation
import InferenceCore

/// Fuzzes what a training request's split reaches before any model is fitted: the first three
/// bytes choose the scheme, the gap and the fold count (as `split`, `gap` and `folds` would), the
/// rest is a CSV whose last column is the target and whose first names the time or group column.
/// Timestamp detection, the scheme's inference, the checks, the folds and the calendar features
/// of the time column all see it.
enum SplitFuzzing {
    static func run(_ input: UnsafeRawBufferPointer) {
        guard input.count > 3, let table = try? CSVReader().read(bytes: Array(input.dropFirst(3))),
              let first = table.columns.first?.name, let target = table.columns.last?.name, table.columns.count >= 2 else { return }
        let schemes: [SplitScheme?] = [nil, .random, .time, .group]
        let scheme = schemes[Int(input[0]) % schemes.count]
        // Negative gaps and more folds than rows are part of what must be refused cleanly.
        let gap = Int(input[1]) - 16
        let folds = Int(input[2] % 24)
        let useColumn = input[0] & 0x80 != 0
        let request = SplitRequest(scheme: scheme, timeColumn: scheme == .time || useColumn && scheme == nil ? first : nil,
                                   groupColumn: scheme == .group ? first : nil, gap: gap)
        let spec = TrainingSpec(target: target, folds: folds, split: request)
        guard let prepared = try? PreparedData(table, spec: spec),
              let (splits, _) = try? FoldSplitter(plan: prepared.plan, seed: 1).split(prepared.target, table: prepared.table) else { return }
        for fold in splits {
            // Every position is a row of the prepared table, and no row is on both sides.
            precondition(fold.train.allSatisfy { (0..<prepared.table.rowCount).contains($0) })
            precondition(Set(fold.train).isDisjoint(with: fold.test))
        }
        if let encoder = try? Preprocessor.fit(prepared.table, features: prepared.features, options: prepared.preprocessing) {
            _ = try? encoder.transformWithWarnings(prepared.table)
        }
    }
}
#endif
