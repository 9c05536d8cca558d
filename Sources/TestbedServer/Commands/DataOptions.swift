import ArgumentParser
import Foundation
import InferenceCore

/// How to read the input CSV: shared by every command that reads data.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The CSV file to read.")
    var data: String

    @Option(name: .long, help: "The field delimiter: ',', ';', 'tab' or '|' (default: detected).")
    var delimiter: String?

    @Option(name: .customLong("decimal"), help: "The decimal mark: '.' or ',' (default: detected).")
    var decimalMark: String?

    func readOptions(textColumns: Set<String> = []) throws -> CSVReadOptions {
        CSVReadOptions(delimiter: try delimiterByte(), decimalMark: try decimalByte(), textColumns: textColumns)
    }

    /// Reads the table, with `textColumns` kept as text.
    func read(textColumns: Set<String> = []) throws -> DataTable {
        try CSVReader(options: readOptions(textColumns: textColumns)).read(file: data)
    }

    private func delimiterByte() throws -> UInt8? {
        guard let delimiter else { return nil }
        switch delimiter {
        case ",", "comma": return UInt8(ascii: ",")
        case ";", "semicolon": return UInt8(ascii: ";")
        case "tab", "\\t", "\t": return UInt8(ascii: "\t")
        case "|", "pipe": return UInt8(ascii: "|")
        default: throw ValidationError("--delimiter '\(delimiter)' is not supported; expected ',', ';', 'tab' or '|'")
        }
    }

    private func decimalByte() throws -> UInt8? {
        guard let decimalMark else { return nil }
        switch decimalMark {
        case ".": return UInt8(ascii: ".")
        case ",": return UInt8(ascii: ",")
        default: throw ValidationError("--decimal '\(decimalMark)' is not supported; expected '.' or ','")
        }
    }
}

/// What to learn and how: shared by `train` and `evaluate`.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "The column to predict.")
    var target: String?

    @Option(name: .long, help: "regression or classification (default: inferred from the target).")
    var task: LearningTask?

    @Option(name: .long, help: "The model family: \(AlgorithmRegistry.all.map(\.name).joined(separator: ", ")), or auto to cross-validate them all and keep the best (default: ridge for regression, logistic for classification).")
    var algorithm: String?

    @Option(name: .long, help: "With --algorithm auto: seconds to spend trying candidates (checked between candidates).")
    var timeBudget: Double = 300

    @Option(name: .long, help: "Ridge: the L2 penalty (default 1.0).")
    var alpha: Double?

    @Option(name: .customLong("C"), help: "Logistic: the inverse L2 penalty (default 1.0).")
    var c: Double?

    @Option(name: .long, help: ArgumentHelp("Any hyper-parameter as NAME=VALUE (repeatable), e.g. --param k=7.", valueName: "name=value"))
    var param: [String] = []

    @Option(name: .long, help: "Seed for the fold split and anything random in training.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Cross-validation folds (stratified for classification).")
    var folds: Int = 5

    @OptionGroup var split: SplitOptions

    @Option(name: .long, help: "The share of new rows the prediction intervals (regression) or prediction sets (classification) are calibrated to cover, between 0 and 1.")
    var coverage: Double = ConformalCalibration.defaultCoverage

    @Option(name: .long, parsing: .upToNextOption, help: "Columns to leave out of the features.")
    var exclude: [String] = []

    @Flag(name: .long, help: "Add a missing-value indicator column for each numeric feature with missing cells.")
    var missingIndicators = false

    func spec(target: String) throws -> TrainingSpec {
        var parameters: Hyperparameters = [:]
        for assignment in param {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Double(parts[1]) else {
                throw ValidationError("--param '\(assignment)' is not NAME=NUMBER (for example --param learning_rate=0.05)")
            }
            parameters[parts[0]] = value
        }
        if let alpha { parameters["alpha"] = alpha }
        if let c { parameters["C"] = c }
        return TrainingSpec(target: target, task: task, algorithm: try algorithm.map(AlgorithmChoice.init(parsing:)) ?? .taskDefault,
                            parameters: parameters, seed: seed, folds: folds, split: split.request, coverage: coverage,
                            excludedColumns: Set(exclude), missingIndicators: missingIndicators)
    }
}

/// How many threads training uses: shared by `train`, `evaluate` and `serve` (whose training
/// workers inherit it through `TESTBED_THREADS`).
struct ThreadOptions: ParsableArguments {
    @Option(name: .long, help: "Threads training uses: a forest's trees, the features of a gbdt histogram and the folds of a cross-validation are spread over them, with the same results as one thread (default: TESTBED_THREADS, else every core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, not \(threads)") }
        if let text = ProcessInfo.processInfo.environment["TESTBED_THREADS"], !text.isEmpty, Parallelism.environmentThreads == nil {
            throw ValidationError("TESTBED_THREADS='\(text)' is not a whole number of threads (1 or more)")
        }
    }

    /// Sets the process's thread count, and its workers' through their environment.
    func apply() {
        guard let threads else { return }
        Parallelism.setThreads(threads)
        setenv("TESTBED_THREADS", String(threads), 1)
    }
}

/// How to split rows into folds: shared by `train`, `evaluate` and `folds`.
struct SplitOptions: ParsableArguments {
    @Option(name: .long, help: "random, time or group (default: time order for a table with exactly one timestamp column, group with --group-column, otherwise random).")
    var split: SplitScheme?

    @Option(name: .long, help: "The column that orders the rows in time (a timestamp or a number).")
    var timeColumn: String?

    @Option(name: .long, help: "The column whose groups (batch, machine, customer) must stay on one side of every split.")
    var groupColumn: String?

    @Option(name: .long, help: "Time splits: rows left out between the training rows and each test fold.")
    var gap: Int = 0

    var request: SplitRequest {
        SplitRequest(scheme: split, timeColumn: timeColumn, groupColumn: groupColumn, gap: gap)
    }
}

extension LearningTask: ExpressibleByArgument {}
extension SplitScheme: ExpressibleByArgument {}
