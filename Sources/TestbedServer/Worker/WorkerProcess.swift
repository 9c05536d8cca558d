import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// One child process: started with `posix_spawn`, signalled only while it has not been reaped
/// (so a signal never reaches a recycled process id), and reaped exactly once.
final class WorkerProcess: Sendable {
    /// How the process ended.
    enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    private struct State {
        var reaped = false
        var stopRequested = false
        var timedOut = false
    }

    let pid: pid_t
    private let state = NIOLockedValueBox(State())

    /// Pipes are made and the child is spawned under this lock: a pipe end is marked
    /// close-on-exec only after `pipe()` returns, and another worker spawned in between must
    /// not inherit it (it would hold our pipe open past our child's exit).
    private static let spawnLock = NIOLock()

    private init(pid: pid_t) { self.pid = pid }

    /// A pipe whose ends are both close-on-exec.
    struct Pipe {
        let read: Int32
        let write: Int32
    }

    /// Starts `executable` with `arguments` (without `argv[0]`) and `environment`, its standard
    /// input, output and error on new pipes. The child sets itself up and waits for its request
    /// on standard input (``Channels/send(_:)``), so a spare can be started before there is work for
    /// it. Nothing goes through the data directory: a worker left running for a moment by a
    /// server killed outright cannot leave a file behind for the next start to find.
    ///
    /// Signals the server ignores or handles (SIGTERM, SIGINT, SIGPIPE for ServiceLifecycle and
    /// NIO) are reset to their defaults in the child, and it gets a process group of its own, so
    /// a Ctrl-C at the terminal reaches the server, which then stops its workers itself.
    static func spawn(executable: String, arguments: [String], environment: [String: String]) throws -> Channels {
        let argv = (["testbed"] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noMask = sigset_t()
        sigemptyset(&noMask)
        posix_spawnattr_setsigmask(&attributes, &noMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        return try spawnLock.withLock {
            var pipes: [Pipe] = []
            do {
                for _ in 0..<3 { pipes.append(try makePipe()) }
            } catch {
                for pipe in pipes { close(pipe.read); close(pipe.write) }
                throw error
            }
            let (input, output, errors) = (pipes[0], pipes[1], pipes[2])
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, input.read, 0)
            posix_spawn_file_actions_adddup2(&actions, output.write, 1)
            posix_spawn_file_actions_adddup2(&actions, errors.write, 2)
            var pid = pid_t()
            let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            close(input.read)
            close(output.write)
            close(errors.write)
            guard result == 0 else {
                close(input.write)
                close(output.read)
                close(errors.read)
                throw StorageError("cannot start a worker process (\(executable)): \(String(cString: strerror(result)))", errorNumber: result)
            }
            return Channels(process: WorkerProcess(pid: pid), input: input.write, output: output.read, errors: errors.read)
        }
    }

    /// A started worker and the server's ends of its pipes.
    struct Channels: Sendable {
        let process: WorkerProcess
        /// Its standard input: the request, then kept open while it runs (end of file tells it
        /// the server has gone).
        let input: Int32
        /// Its message lines.
        let output: Int32
        let errors: Int32

        /// Writes the request line; `false` when the worker has gone (the server ignores
        /// SIGPIPE, so a dead reader is an error here, not the end of the server).
        func send(_ request: Data) -> Bool {
            request.withUnsafeBytes { writeFully(input, $0) }
        }

        /// Closes the server's ends and reaps a worker that is not going to be used.
        func discard() {
            for descriptor in [input, output, errors] { close(descriptor) }
            process.signal(SIGKILL)
            _ = process.waitForExit()
        }
    }

    private static func makePipe() throws -> Pipe {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw StorageError("cannot make a pipe: \(String(cString: strerror(errno)))", errorNumber: errno) }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return Pipe(read: ends[0], write: ends[1])
    }

    /// Whether the server asked the process to stop (``terminate(grace:)``).
    var stopRequested: Bool { state.withLockedValue { $0.stopRequested } }
    /// Whether the server stopped it at its time limit (``timeOut()``).
    var timedOut: Bool { state.withLockedValue { $0.timedOut } }

    /// Sends SIGTERM now and SIGKILL after `grace` if it is still there. A worker has no state
    /// worth saving, so the default action of SIGTERM (ending at once) is what it should do.
    func terminate(grace: TimeInterval = 3) {
        state.withLockedValue { $0.stopRequested = true }
        signal(SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + grace) { [self] in signal(SIGKILL) }
    }

    /// Kills it for running past its time limit.
    func timeOut() {
        state.withLockedValue { $0.timedOut = true }
        signal(SIGKILL)
    }

    private func signal(_ number: Int32) {
        state.withLockedValue { state in
            if !state.reaped { kill(pid, number) }
        }
    }

    /// Blocks until the process has ended and reaps it; returns how it ended and its peak
    /// resident memory in bytes.
    func waitForExit() -> (termination: Termination, peakResidentBytes: Int) {
        // Wait without reaping first: until it is reaped, its id cannot be reused, so a
        // concurrent ``terminate(grace:)`` signals this process or a zombie, never another one.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        state.withLockedValue { $0.reaped = true }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        let termination: Termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
        return (termination, usage.ru_maxrss * 1024)
    }
}
