import Foundation
import Synchronization
import Testing
@testable import InferenceCore

/// Training on several threads gives what one thread gives, bit for bit, and the parallel map
/// behaves as the loop it replaces.
@Suite("Parallelism")
struct ParallelismTests {
    struct Failure: Error, Equatable { let index: Int }

    @Test func theMapKeepsOrderRunsEveryPieceAndThrowsTheFirstError() throws {
        let squares = Parallelism.$taskThreads.withValue(4) { Parallelism.map(1000) { $0 * $0 } }
        #expect(squares == (0..<1000).map { $0 * $0 })
        let ran = Mutex(Set<Int>())
        #expect(throws: Failure(index: 3)) {
            try Parallelism.$taskThreads.withValue(2) {
                _ = try Parallelism.map(20) { (index: Int) throws(Failure) -> Int in
                    ran.withLock { _ = $0.insert(index) }
                    if index == 3 || index == 17 { throw Failure(index: index) }
                    return index
                }
            }
        }
        #expect(ran.withLock { $0 } == Set(0..<20))
    }

    @Test func aMapInsideAMapRunsOnItsOwnThread() {
        let inner = Parallelism.$taskThreads.withValue(2) {
            Parallelism.map(4) { _ in Parallelism.map(3) { _ in Thread.current } }
        }
        for threads in inner { #expect(Set(threads.map { ObjectIdentifier($0) }).count == 1) }
    }

    /// A forest (its trees on all threads) and a cross-validation (its folds on all threads),
    /// on real tables: the model files and every figure are the same on 1 and on 3 threads.
    @Test(arguments: [("Vehicle.csv", "Class", "random_forest"), ("Servo.csv", "Class", "random_forest"), ("Satellite.csv", "classes", "logistic")])
    func trainingIsTheSameOnOneThreadAndOnSeveral(dataset: String, target: String, algorithm: String) throws {
        let table = try TestData.table(dataset, target: target)
        var spec = TrainingSpec(target: target, seed: 3, folds: 5)
        spec.algorithm = .named(algorithm)
        if algorithm == "random_forest" { spec.parameters = ["n_estimators": 24] }
        func train(threads: Int) throws -> (predictions: [Double], figures: CrossValidationResult?) {
            try Parallelism.$taskThreads.withValue(threads) {
                let model = try TrainedModel.train(table, spec: spec)
                let predicted = try model.predict(table)
                return (predicted.values + (predicted.probabilities?.storage ?? []), model.training.evaluation)
            }
        }
        let one = try train(threads: 1), several = try train(threads: 3)
        #expect(one.predictions.map(\.bitPattern) == several.predictions.map(\.bitPattern))
        #expect(one.figures != nil && one.figures == several.figures)
    }
}
