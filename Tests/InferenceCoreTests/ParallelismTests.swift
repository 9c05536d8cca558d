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

    /// Maps inside maps share the outermost map's threads: no more pieces run at once than
    /// ``Parallelism/threads``, pieces do run side by side, and every answer lands in its place.
    @Test(arguments: [2, 3])
    func mapsInsideMapsNeverRunMoreThanTheThreadCount(threads: Int) {
        let running = Atomic<Int>(0), most = Atomic<Int>(0)
        let sums = Parallelism.$taskThreads.withValue(threads) {
            Parallelism.map(6) { outer in
                Parallelism.map(40) { inner in
                    let now = running.wrappingAdd(1, ordering: .relaxed).newValue
                    most.max(now, ordering: .relaxed)
                    usleep(200)
                    // The first piece waits (a bounded time) for a partner, so that a machine busy
                    // with other tests, which delays a helper, cannot make the pieces run one by one.
                    let deadline = ContinuousClock.now + .seconds(2)
                    while outer == 0, inner == 0, most.load(ordering: .relaxed) < 2, ContinuousClock.now < deadline { usleep(100) }
                    running.wrappingSubtract(1, ordering: .relaxed)
                    return outer * 100 + inner
                }.reduce(0, +)
            }
        }
        #expect(sums == (0..<6).map { outer in (0..<40).reduce(0) { $0 + outer * 100 + $1 } })
        let peak = most.load(ordering: .relaxed)
        #expect(peak <= threads, "\(peak) pieces ran at once on \(threads) threads")
        #expect(peak >= 2, "the pieces never ran side by side")
    }

    /// A map's helpers start at once even while Dispatch's threads, no more than the cores, are
    /// all busy with other work of the process (a server's handlers, tests side by side): the two
    /// pieces find each other running well before that work ends.
    @Test func helpersStartWhileDispatchIsBusy() {
        let busyUntil = DispatchSemaphore(value: 0), blocks = 2 * ProcessInfo.processInfo.activeProcessorCount
        for _ in 0..<blocks { DispatchQueue.global().async { _ = busyUntil.wait(timeout: .now() + 2) } }
        defer { for _ in 0..<blocks { busyUntil.signal() } }
        let arrived = Atomic<Int>(0)
        let met = Parallelism.$taskThreads.withValue(2) {
            Parallelism.map(2) { _ -> Bool in
                arrived.wrappingAdd(1, ordering: .relaxed)
                let deadline = ContinuousClock.now + .milliseconds(500)
                while arrived.load(ordering: .relaxed) < 2, ContinuousClock.now < deadline { usleep(100) }
                return arrived.load(ordering: .relaxed) == 2
            }
        }
        #expect(met == [true, true])
    }

    /// A thread whose map has no pieces left helps a map still running inside it: the long piece
    /// of two gets the other thread for its own inner map once the short one is done.
    @Test func aThreadWithNothingLeftHelpsAnInnerMap() {
        let helped = Parallelism.$taskThreads.withValue(2) {
            Parallelism.map(2) { piece -> Bool in
                guard piece == 1 else { return false }
                let deadline = ContinuousClock.now + .seconds(5)
                while ContinuousClock.now < deadline {
                    let threads = Parallelism.map(8) { _ -> ObjectIdentifier in
                        usleep(1_000)
                        return ObjectIdentifier(Thread.current)
                    }
                    if Set(threads).count == 2 { return true }
                }
                return false
            }
        }
        #expect(helped == [false, true])
    }

    /// A forest (its trees on all threads), gbdt (its histograms' features, with hessians for
    /// classes and without for regression) and a
    /// cross-validation (its folds on all threads, and idle threads helping the folds still
    /// running), on real tables: the model files and every figure are the same on 1 and on 3 threads.
    @Test(arguments: [("Vehicle.csv", "Class", "random_forest"), ("Servo.csv", "Class", "random_forest"), ("Satellite.csv", "classes", "logistic"),
                      ("Satellite.csv", "classes", "gbdt"), ("Satellite.csv", "x.17", "gbdt")])
    func trainingIsTheSameOnOneThreadAndOnSeveral(dataset: String, target: String, algorithm: String) throws {
        let table = try TestData.table(dataset, target: target)
        var spec = TrainingSpec(target: target, seed: 3, folds: 5)
        spec.algorithm = .named(algorithm)
        if algorithm == "random_forest" { spec.parameters = ["n_estimators": 24] }
        // Satellite's 36 columns on its 5,148 training rows a fold are past the size at which
        // a histogram is built on several threads.
        if algorithm == "gbdt" {
            spec.parameters = ["max_iter": 10]
            #expect(5_148 * 36 >= TreeGrower.parallelHistogramWork)
        }
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
