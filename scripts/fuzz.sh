#!/usr/bin/env bash
# Fuzzes the testbed's input parsers and scoring paths with libFuzzer.
#
#   scripts/fuzz.sh TARGET [SECONDS]   build if needed, then fuzz TARGET for SECONDS (default 60)
#   scripts/fuzz.sh all [SECONDS]      every target in turn, SECONDS each (or a list: csv,json)
#   scripts/fuzz.sh --list             the targets and their maximum input length
#   scripts/fuzz.sh --triage TARGET    replay each saved input of TARGET: the failure and top frames
#   (The tests replay every target's committed seeds without fuzzing: FuzzSeedReplayTests.)
#   --record (before TARGET)           also append a line per run to Tests/Fuzz/RUNS.md
#   --keep-going (before TARGET)       go on past crashes (libFuzzer's -fork=1, still one process
#                                      fuzzing at a time) and save each, for long runs
#   --no-build (before TARGET)         use the fuzzing testbed already built
#
# The targets are a hidden `testbed fuzz TARGET` subcommand (Sources/TestbedServer/Fuzzing),
# compiled only into a build with -DFUZZING and the fuzzer and address sanitizers, kept apart
# in .build-fuzz. Each run starts from the committed seeds in Tests/Fuzz/corpus/TARGET, copied
# into .build-fuzz/corpus/TARGET so that the inputs libFuzzer adds do not touch the repository.
# A crash, sanitizer report or timeout stops the run, saves the input under
# .build-fuzz/findings/TARGET/ (not artifacts/, which SwiftPM empties on a build) and makes the
# script exit non-zero. Logs: .build-fuzz/logs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Target and the longest input libFuzzer makes for it: enough for a few CSV lines, JSON rows or
# tensors; model files are larger (the seeds are small trained models).
TARGETS=(csv json tensor predict modelfile split feedback mlflow grpc database)
declare -A MAX_LEN=([csv]=4096 [json]=4096 [tensor]=4096 [predict]=4096 [modelfile]=65536 [split]=4096 [feedback]=4096 [mlflow]=4096 [grpc]=8192 [database]=256)
SANITIZERS=fuzzer,address
SCRATCH=.build-fuzz
BINARY=$SCRATCH/release/testbed

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

record=0
keep_going=()
while [ $# -gt 0 ]; do
    case "$1" in
        --record) record=1; shift ;;
        --no-build) no_build=1; shift ;;
        --keep-going) keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1); shift ;;
        *) break ;;
    esac
done
case "${1:-}" in
    "") usage ;;
    --list) for target in "${TARGETS[@]}"; do echo "$target (max_len ${MAX_LEN[$target]})"; done; exit 0 ;;
    --triage) triage=1; shift; [ $# -ge 1 ] || usage ;;
    -h|--help) usage ;;
esac
chosen=$1
seconds=${2:-60}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "error: SECONDS must be a whole number, not '$seconds'" >&2; exit 2; }
if [ "$chosen" = all ]; then
    targets=("${TARGETS[@]}")
else
    # A comma-separated list runs those targets in turn (say, all but one with a known crash).
    IFS=, read -ra targets <<<"$chosen"
    for target in "${targets[@]}"; do
        [ -n "${MAX_LEN[$target]+x}" ] || { echo "error: unknown target '$target'; targets: ${TARGETS[*]} (or all)" >&2; exit 2; }
    done
fi

# libFuzzer comes with the toolchain's clang runtime; some toolchains (Xcode's) leave it out.
swiftc=$(command -v swiftc) || { echo "error: swiftc is not on PATH" >&2; exit 1; }
toolchain=$(dirname "$(dirname "$(readlink -f "$swiftc")")")
if ! compgen -G "$toolchain/lib/clang/*/lib/*/libclang_rt.fuzzer*" >/dev/null; then
    echo "error: this Swift toolchain ($toolchain) has no libFuzzer runtime (libclang_rt.fuzzer);" \
         "fuzzing needs a swift.org toolchain for Linux" >&2
    exit 1
fi

mkdir -p "$SCRATCH/logs"
if [ "${no_build:-0}" = 1 ]; then
    [ -x "$BINARY" ] || { echo "error: --no-build, but there is no fuzzing testbed at $BINARY" >&2; exit 1; }
else
    scripts/install-deps.sh
    # Only the testbed product: the targets live in it, and it is the one that needs building.
    # The executable's own `main` keeps libFuzzer's `main` out of the link; --undefined makes sure
    # libFuzzer's driver, which the fuzz subcommand calls instead, is linked all the same. lld:
    # gold fails with an internal error on the address sanitizer's link.
    echo "fuzz: building the fuzzing testbed (-sanitize=$SANITIZERS) in $SCRATCH..." >&2
    nice -n 10 swift build -c release --scratch-path "$SCRATCH" --product testbed \
        -Xswiftc -sanitize=$SANITIZERS -Xswiftc -DFUZZING -Xswiftc -use-ld=lld -Xlinker --undefined=LLVMFuzzerRunDriver \
        >"$SCRATCH/logs/build.log" 2>&1 || { tail -30 "$SCRATCH/logs/build.log" >&2; echo "error: the fuzzing build failed; see $SCRATCH/logs/build.log" >&2; exit 1; }
    # What --record names: the commit the fuzzed code was built from, not the one checked out later.
    echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo +changes)" >"$SCRATCH/built-from"
fi

symbolizer=$toolchain/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer
# Leak reports are off: the Swift runtime's caches read as leaks at exit, and a leak is not
# what these targets look for.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
# libFuzzer's own handler reports Swift's traps (SIGILL) with the stack; the Swift runtime's
# backtracer would take the signal first.
export SWIFT_BACKTRACE=enable=no

# The failure and first project frames of each saved input, to tell distinct crashes apart.
if [ "${triage:-0}" = 1 ]; then
    for input in "$SCRATCH/findings/$chosen"/*; do
        [ -f "$input" ] || continue
        echo "== $input"
        "$BINARY" fuzz "$chosen" "$input" 2>&1 | grep -E '^ +#[0-9]+ |ERROR: AddressSanitizer|timeout|out-of-memory' \
            | grep -E 'runtime failure|/Sources/|AddressSanitizer|timeout|out-of-memory' | grep -v /Fuzzing/ | head -3 \
            | { swift demangle --simplified 2>/dev/null || cat; } | sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ in /  /' || true
    done
    exit 0
fi

failed=()
for target in "${targets[@]}"; do
    corpus=$SCRATCH/corpus/$target
    findings=$SCRATCH/findings/$target
    log=$SCRATCH/logs/$target-$(date -u +%Y%m%dT%H%M%SZ).log
    mkdir -p "$corpus" "$findings"
    cp -n Tests/Fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
    echo "fuzz: $target for ${seconds}s (log $log)" >&2
    before=$(ls "$findings" | wc -l)
    status=0
    nice -n 10 "$BINARY" fuzz "$target" -max_len="${MAX_LEN[$target]}" -timeout=10 -rss_limit_mb=4096 \
        -max_total_time="$seconds" -print_final_stats=1 -detect_leaks=0 \
        -artifact_prefix="$findings/" ${keep_going[@]+"${keep_going[@]}"} "$corpus" >"$log" 2>&1 || status=$?
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$executions" ]; then
        executions=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    fi
    # Inputs saved by this run (with --keep-going there may be several, and the exit status is 0).
    crashes=$(( $(ls "$findings" | wc -l) - before ))
    if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        [ "$crashes" -gt 0 ] || crashes=1
        failed+=("$target")
        grep -E 'ERROR: libFuzzer|ERROR: AddressSanitizer|Fatal error|SUMMARY' "$log" | head -5 >&2 || true
        grep -E '^ *#[0-9]+ 0x' "$log" | head -14 | { swift demangle --simplified 2>/dev/null || cat; } >&2 || true
        input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        echo "fuzz: $target FAILED (exit $status, $crashes inputs saved in $findings) after ${executions:-?} executions; input: ${input:-none saved}; log: $log" >&2
    else
        echo "fuzz: $target ok: ${executions:-?} executions in ${seconds}s" >&2
    fi
    if [ "$record" = 1 ]; then
        echo "| $(date -u +%Y-%m-%d) | $target | $(cat "$SCRATCH/built-from" 2>/dev/null || echo ?) | $seconds | ${executions:-?} | $crashes |" >>Tests/Fuzz/RUNS.md
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failing targets: ${failed[*]}" >&2
    exit 1
fi
