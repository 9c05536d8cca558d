import ArgumentParser

/// The `testbed` executable: the HTTP server and the command line.
@main
struct TestbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testbed",
        abstract: "Turn a CSV export into a validated model, and use it.",
        discussion: "Results go to standard output; progress and notes to standard error.",
        subcommands: [ServeCommand.self, ProfileCommand.self, TrainCommand.self, EvaluateCommand.self, PredictCommand.self, ExportCommand.self, FoldsCommand.self,
                      WorkerCommand.self] + fuzzingSubcommands
    )
}
