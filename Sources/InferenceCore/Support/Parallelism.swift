import Dispatch
import Foundation
import Synchronization

/// How many threads training uses, and the one way it spreads work over them.
///
/// Work is split into independent pieces whose results land in their own slots (a forest's trees,
/// the folds of a cross-validation, a histogram's features), so the answer is bit-identical to one
/// thread's whatever the count: a piece never depends on which thread ran it or on what finished
/// first. A map inside another shares the outermost map's threads: it takes only those no piece
/// is using, so nesting never exceeds the count, and a thread whose own map has no pieces left
/// helps the maps still running (the last fold of a cross-validation gets the cores the others
/// freed).
public enum Parallelism {
    /// 0 until ``setThreads(_:)``: then ``threads`` reads `TESTBED_THREADS` or counts the cores.
    private static let configured = Atomic<Int>(0)

    /// A task's own thread count, over the process's (`Parallelism.$taskThreads.withValue(1) { … }`).
    @TaskLocal public static var taskThreads: Int?

    /// The threads training may use: the task's ``taskThreads``, else the enclosing map's count
    /// (on its threads), else ``setThreads(_:)``'s value, else `TESTBED_THREADS` as the process
    /// started, else every core the process may run on.
    public static var threads: Int {
        if let taskThreads { return max(1, taskThreads) }
        if let budget = Budget.current { return budget.limit }
        let value = configured.load(ordering: .relaxed)
        return value > 0 ? value : startingThreads
    }

    /// `TESTBED_THREADS` or the cores, read once: reading the environment builds a dictionary of it.
    private static let startingThreads = environmentThreads ?? ProcessInfo.processInfo.activeProcessorCount

    /// Sets ``threads`` for the whole process (at least 1).
    public static func setThreads(_ count: Int) {
        configured.store(max(1, count), ordering: .relaxed)
    }

    /// `TESTBED_THREADS` when it is a positive whole number.
    public static var environmentThreads: Int? {
        ProcessInfo.processInfo.environment["TESTBED_THREADS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// `body(0) … body(count − 1)` in that order, computed on up to ``threads`` threads: fewer
    /// when there are fewer pieces, and inside another map only as many as its threads leave
    /// idle (and no more than a ``taskThreads`` set inside it allows). Every piece runs even when
    /// one throws; then the error of the lowest index is thrown, as a loop would have.
    ///
    /// The threads beyond the caller's are ``HelperThreads`` of the map's own rather than
    /// Dispatch's: its global queues run no more blocks at once than there are cores, so a helper
    /// queued behind the process's other work (a server's handlers, tests running side by side)
    /// would start only once that work is done, and `concurrentPerform` runs an apply inside
    /// another apply on one thread when the outer one has as many iterations as there are cores.
    public static func map<T, Failure: Error>(_ count: Int, _ body: (Int) throws(Failure) -> T) throws(Failure) -> [T] {
        guard count > 1 else { return try (0..<count).map(body) }
        let enclosing = Budget.current
        let budget = enclosing ?? Budget(limit: threads)
        // The outermost map counts its own thread; an inner map's is counted by the map it runs in.
        let own = enclosing == nil ? 1 : 0
        var wanted = count - 1
        if enclosing != nil, let taskThreads { wanted = min(wanted, taskThreads - 1) }
        let helpers = budget.reserve(upTo: wanted, plus: own)
        guard helpers > 0 else { return try (0..<count).map(body) }
        let slots = UnsafeMutableBufferPointer<Result<T, Failure>?>.allocate(capacity: count)
        slots.initialize(repeating: nil)
        defer { slots.deinitialize().deallocate() }
        withoutActuallyEscaping(body) { body in
            // Reached through a pointer: a helper that starts after every piece is taken (its job
            // can outlive this call) must not hold the closure.
            let piece = UnsafeMutablePointer<(Int) -> Void>.allocate(capacity: 1)
            piece.initialize(to: { index in
                do throws(Failure) {
                    slots[index] = .success(try body(index))
                } catch {
                    slots[index] = .failure(error)
                }
            })
            defer { piece.deinitialize(count: 1).deallocate() }
            let run = MapRun(count: count, piece: piece, budget: budget)
            for _ in 0..<helpers {
                HelperThreads.shared.start {
                    run.work()
                    budget.release()
                }
            }
            run.work()
            // The outermost caller's place is free while it waits for the pieces still running.
            if own == 1 { budget.release() }
            run.allFinished.wait()
        }
        var results: [T] = []
        results.reserveCapacity(count)
        for slot in slots { results.append(try slot!.get()) }
        return results
    }

    /// The threads of one outermost map and of every map inside it: how many may work at once,
    /// and how many do. Its threads find it in their thread dictionary.
    private final class Budget: Sendable {
        static let key = "testbed.parallel-budget"
        let limit: Int
        private let busy = Atomic<Int>(0)

        init(limit: Int) { self.limit = max(1, limit) }

        /// The budget of the map this thread is working for, if any.
        static var current: Budget? { Thread.current.threadDictionary[key] as? Budget }

        /// Takes `own` places (the caller's) and up to `wanted` more, as many as are free, when at
        /// least one more is; returns how many more it took.
        func reserve(upTo wanted: Int, plus own: Int) -> Int {
            var current = busy.load(ordering: .relaxed)
            while true {
                let taken = min(wanted, limit - current - own)
                guard taken > 0 else { return 0 }
                let (exchanged, original) = busy.compareExchange(expected: current, desired: current + own + taken, ordering: .relaxed)
                if exchanged { return taken }
                current = original
            }
        }

        /// Gives one place back, for the maps still running to take.
        func release() { busy.wrappingSubtract(1, ordering: .relaxed) }
    }

    /// One map's pieces, handed out one at a time to the threads working on it.
    private final class MapRun: @unchecked Sendable {
        let count: Int
        /// Runs a piece and stores its result; valid until every piece has finished.
        let piece: UnsafeMutablePointer<(Int) -> Void>
        let budget: Budget
        let next = Atomic<Int>(0), finished = Atomic<Int>(0)
        /// Signalled once, by the thread that finishes the last piece.
        let allFinished = DispatchSemaphore(value: 0)

        init(count: Int, piece: UnsafeMutablePointer<(Int) -> Void>, budget: Budget) {
            (self.count, self.piece, self.budget) = (count, piece, budget)
        }

        /// Takes and runs pieces until none is left; the maps they start share the budget.
        func work() {
            let thread = Thread.current
            let previous = thread.threadDictionary[Budget.key]
            thread.threadDictionary[Budget.key] = budget
            defer { thread.threadDictionary[Budget.key] = previous }
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < count else { return }
                piece.pointee(index)
                // Acquire and release: the last piece's thread has seen every result stored before it signals.
                if finished.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == count { allFinished.signal() }
            }
        }
    }

    /// Threads that run the maps' helpers: one is started whenever a helper finds none waiting,
    /// and a thread whose helper is done waits for the next, ending after ``idleSeconds`` without one.
    private final class HelperThreads: @unchecked Sendable {
        static let shared = HelperThreads()
        /// Long enough that the maps of one training job reuse the threads, short enough that a
        /// burst of uploads leaves no idle threads behind for long.
        static let idleSeconds: TimeInterval = 10
        /// Guards `waitingJobs` and `idle`.
        private let condition = NSCondition()
        private var waitingJobs: [@Sendable () -> Void] = []
        private var idle = 0

        /// Runs `job` on a helper thread, at once: on one that is waiting, or on a new one.
        func start(_ job: @escaping @Sendable () -> Void) {
            condition.lock()
            waitingJobs.append(job)
            // Every job beyond the threads already waiting gets a thread of its own, so none waits.
            let needsThread = waitingJobs.count > idle
            condition.signal()
            condition.unlock()
            if needsThread { Thread { [self] in serve() }.start() }
        }

        /// Runs jobs until none has come for ``idleSeconds``.
        private func serve() {
            while true {
                condition.lock()
                while waitingJobs.isEmpty {
                    idle += 1
                    let signalled = condition.wait(until: Date(timeIntervalSinceNow: Self.idleSeconds))
                    idle -= 1
                    // No longer counted as waiting: a job from now on starts a thread of its own.
                    if !signalled && waitingJobs.isEmpty {
                        condition.unlock()
                        return
                    }
                }
                let job = waitingJobs.removeFirst()
                condition.unlock()
                job()
            }
        }
    }
}
