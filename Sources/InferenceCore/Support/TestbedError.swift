/// A domain error raised by InferenceCore.
///
/// Each error carries a stable ``Code`` that callers (the command line, the server) map to
/// their own vocabulary, and a message written for the person who has to fix the input:
/// it says what was wrong and what was expected.
public struct TestbedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, extensible error category. New codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The CSV bytes could not be parsed (ragged rows, bad quoting, invalid UTF-8, empty file).
        public static let malformedCSV = Code("malformed_csv")
        /// A column the caller named does not exist.
        public static let unknownColumn = Code("unknown_column")
        /// The data cannot support the requested training or evaluation.
        public static let unsuitableData = Code("unsuitable_data")
        /// A hyper-parameter or option is out of its allowed range.
        public static let invalidParameter = Code("invalid_parameter")
        /// The algorithm name is not known or does not support the task.
        public static let unknownAlgorithm = Code("unknown_algorithm")
        /// A model file could not be read or is of an unsupported format version.
        public static let invalidModelFile = Code("invalid_model_file")
        /// The input to a fitted model does not match what it was trained on.
        public static let shapeMismatch = Code("shape_mismatch")
        /// A numerical routine failed (singular system, LAPACK error).
        public static let numericalFailure = Code("numerical_failure")
        /// The model cannot do what was asked of it (for example, explain a k-NN prediction).
        public static let unsupported = Code("unsupported")
        /// A file could not be read or written.
        public static let io = Code("io")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
