import ArgumentParser
import Foundation
import InferenceCore

/// `testbed profile`: what a file holds, before anything is trained on it.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile", abstract: "Show the columns of a CSV file: inferred types, missing shares, statistics, warnings.")

    @OptionGroup var input: DataOptions

    @Flag(name: .long, help: "Print the profile as JSON.")
    var json = false

    func run() throws {
        try Console.run {
            let profile = DatasetProfile(try input.read())
            if json { return try Console.printJSON(profile) }
            print("\(profile.rows) rows, \(profile.columns.count) columns (delimiter '\(profile.delimiter == "\t" ? "tab" : profile.delimiter)', decimal mark '\(profile.decimalMark)')")
            for column in profile.columns {
                var detail = ""
                if let time = column.time {
                    let step = time.typicalStepSeconds.map { "  every \(TimeProfile.duration($0))" } ?? ""
                    detail = "\(time.first) to \(time.last)\(step)  \(time.inOrder ? "in time order" : "not in time order")  \(time.layout)"
                } else if let summary = column.summary {
                    detail = String(format: "min %.4g  max %.4g  mean %.4g  std %.4g", summary.min, summary.max, summary.mean, summary.std)
                } else if let top = column.topCategories {
                    detail = "\(column.distinctCount) values: " + top.prefix(5).map { "\($0.value) (\($0.count))" }.joined(separator: ", ")
                }
                let missing = column.missingCount > 0 ? String(format: "  missing %.1f%%", column.missingShare * 100) : ""
                print("  \(column.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(column.kind.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(detail)\(missing)")
            }
            for warning in profile.warnings { Console.note(warning) }
        }
    }
}
