import ArgumentParser

/// The `testbed` executable: the command line now, the HTTP server later.
@main
struct TestbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testbed",
        abstract: "Turn a CSV export into a validated model, and use it.",
        discussion: "Results go to standard output; progress and notes to standard error.",
        subcommands: [ProfileCommand.self, TrainCommand.self, EvaluateCommand.self, PredictCommand.self, FoldsCommand.self]
    )
}
