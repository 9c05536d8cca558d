import ArgumentParser
import InferenceCore

/// `testbed folds`: the cross-validation folds `evaluate` uses, so that other tools can be
/// measured on exactly the same splits.
struct FoldsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "folds",
        abstract: "Print the test fold of every row as evaluate --folds K --seed S (and --split …) splits them (CSV: row,fold).",
        discussion: "Rows are numbered from 1 in file order after the header; rows without a target value, and in time order the first block (only ever trained on) and rows without a readable time, have an empty fold. With time order, fold K trains on the rows before its test block, less --gap rows.")

    @OptionGroup var input: DataOptions

    @Option(name: .long, help: "The column to predict (classification folds are stratified by it).")
    var target: String

    @Option(name: .long, help: "regression or classification (default: inferred from the target).")
    var task: LearningTask?

    @Option(name: .long, help: "The number of folds.")
    var folds = 5

    @Option(name: .long, help: "The seed of the shuffle.")
    var seed: UInt64 = 0

    @OptionGroup var split: SplitOptions

    func run() throws {
        try Console.run {
            let table = try input.read(textColumns: [target])
            let prepared = try Target(table.column(named: target), task: task)
            let plan = try ValidationPlan(split.request, folds: folds, table: table, target: target)
            Console.note("split: \(plan.summary)")
            var fold = [Int?](repeating: nil, count: table.rowCount)
            let rows = prepared.rows.count == table.rowCount ? table : table.selectingRows(prepared.rows)
            let (splits, notes) = try FoldSplitter(plan: plan, seed: seed).split(prepared, table: rows)
            notes.forEach(Console.note)
            for (index, part) in splits.enumerated() {
                for position in part.test { fold[prepared.rows[position]] = index }
            }
            print("row,fold")
            for (row, value) in fold.enumerated() { print("\(row + 1),\(value.map(String.init) ?? "")") }
        }
    }
}
