import Dispatch
import Foundation
import Synchronization

/// How many threads training uses, and the one way it spreads work over them.
///
/// Work is split into independent pieces whose results land in their own slots (a forest's trees,
/// the folds of a cross-validation), so the answer is bit-identical to one thread's whatever the
/// count: a piece never depends on which thread ran it or on what finished first. A parallel map
/// inside another runs serially on its thread, so nesting never multiplies the threads.
public enum Parallelism {
    /// 0 until ``setThreads(_:)``: then ``threads`` reads `TESTBED_THREADS` or counts the cores.
    private static let configured = Atomic<Int>(0)

    /// A task's own thread count, over the process's (`Parallelism.$taskThreads.withValue(1) { … }`).
    @TaskLocal public static var taskThreads: Int?

    /// The threads training may use: the task's ``taskThreads``, else ``setThreads(_:)``'s
    /// value, else `TESTBED_THREADS`, else every core the process may run on.
    public static var threads: Int {
        if let taskThreads { return max(1, taskThreads) }
        let value = configured.load(ordering: .relaxed)
        return value > 0 ? value : environmentThreads ?? ProcessInfo.processInfo.activeProcessorCount
    }

    /// Sets ``threads`` for the whole process (at least 1).
    public static func setThreads(_ count: Int) {
        configured.store(max(1, count), ordering: .relaxed)
    }

    /// `TESTBED_THREADS` when it is a positive whole number.
    public static var environmentThreads: Int? {
        ProcessInfo.processInfo.environment["TESTBED_THREADS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// `body(0) … body(count − 1)` in that order, computed on up to ``threads`` threads (fewer
    /// when there are fewer pieces, one inside another parallel map). Every piece runs even when
    /// one throws; then the error of the lowest index is thrown, as a loop would have.
    public static func map<T, Failure: Error>(_ count: Int, _ body: (Int) throws(Failure) -> T) throws(Failure) -> [T] {
        let workers = min(count, threads)
        guard workers > 1, !insideParallelMap else { return try (0..<count).map(body) }
        let slots = UnsafeMutableBufferPointer<Result<T, Failure>?>.allocate(capacity: count)
        slots.initialize(repeating: nil)
        defer { slots.deinitialize().deallocate() }
        let next = Atomic<Int>(0)
        withoutActuallyEscaping(body) { body in
            let pieces = UnsafeSendable((body: body, slots: slots))
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                Thread.current.threadDictionary[insideKey] = true
                defer { Thread.current.threadDictionary[insideKey] = nil }
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < count else { return }
                    do throws(Failure) {
                        pieces.value.slots[index] = .success(try pieces.value.body(index))
                    } catch {
                        pieces.value.slots[index] = .failure(error)
                    }
                }
            }
        }
        var results: [T] = []
        results.reserveCapacity(count)
        for slot in slots { results.append(try slot!.get()) }
        return results
    }

    private static let insideKey = "testbed.parallel-map"
    private static var insideParallelMap: Bool { Thread.current.threadDictionary[insideKey] != nil }
}

/// Hands values that are safe by construction to the threads of ``Parallelism/map(_:_:)``: each
/// thread writes only the slots of the indices it took, and the closure is called, never stored.
private struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
