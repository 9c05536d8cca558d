import ArgumentParser
import InferenceCore

/// `testbed folds`: the cross-validation folds `evaluate` uses, so that other tools can be
/// measured on exactly the same splits.
struct FoldsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "folds",
        abstract: "Print the test fold of every row as evaluate --folds K --seed S splits them (CSV: row,fold).",
        discussion: "Rows are numbered from 1 in file order after the header; rows without a target value have an empty fold.")

    @OptionGroup var input: DataOptions

    @Option(name: .long, help: "The column to predict (classification folds are stratified by it).")
    var target: String

    @Option(name: .long, help: "regression or classification (default: inferred from the target).")
    var task: Task?

    @Option(name: .long, help: "The number of folds.")
    var folds = 5

    @Option(name: .long, help: "The seed of the shuffle.")
    var seed: UInt64 = 0

    func run() throws {
        try Console.run {
            let table = try input.read(textColumns: [target])
            let prepared = try Target(table.column(named: target), task: task)
            var fold = [Int?](repeating: nil, count: table.rowCount)
            let (testFolds, notes) = try FoldSplitter(folds: folds, seed: seed).split(prepared)
            notes.forEach(Console.note)
            for (index, positions) in testFolds.enumerated() {
                for position in positions { fold[prepared.rows[position]] = index }
            }
            print("row,fold")
            for (row, value) in fold.enumerated() { print("\(row + 1),\(value.map(String.init) ?? "")") }
        }
    }
}
