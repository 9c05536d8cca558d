/// One step of a training run, for progress bars and live leaderboards.
public struct TrainingProgress: Sendable {
    /// How much of the run is done, 0 to 1.
    public var fraction: Double
    /// What the run is doing, or what it just finished, in a line a person can read.
    public var message: String
    /// Set when an `auto` candidate has just been cross-validated.
    public var finished: LeaderboardEntry?

    public init(fraction: Double, message: String, finished: LeaderboardEntry? = nil) {
        self.fraction = fraction
        self.message = message
        self.finished = finished
    }
}

/// Called at every step of a training run (each fold of each candidate). Throwing from it, for
/// example because the run was cancelled, stops the training with that error.
public typealias TrainingProgressHandler = (TrainingProgress) throws -> Void

extension TrainingProgress {
    /// A handler that reports `handler`'s steps within `range` of a larger run.
    static func scaled(_ handler: @escaping TrainingProgressHandler, to range: ClosedRange<Double>) -> TrainingProgressHandler {
        { step in
            var step = step
            step.fraction = range.lowerBound + step.fraction * (range.upperBound - range.lowerBound)
            try handler(step)
        }
    }
}
