#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test (Swift Testing).
# The Swift tests read committed fixtures and datasets; they need neither Python nor a network (the
# ONNX check and the browser test below make their own virtual environments).
# They run on a debug build, whose dependencies build in about half a release build's time; our own
# modules are optimised in it as in release (Package.swift), with bounds, overflow and exclusivity
# checks, so the tests train models in seconds. The later steps run the testbed the tests ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

# Every server a test starts must be gone when the tests are; any left is a failure, and is stopped.
# Servers shared by a suite stop when the test process ends (their lifeline closes) and drain as
# SIGTERM does, so they get 30 s; one that has exited but not yet been reaped (a zombie, whose
# parent was the test process) is gone.
leftover_servers() {
    local pid
    for pid in $(pgrep -f "testbed serve --port 0 --data-dir [^ ]*/testbed-"); do
        [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] || echo "$pid"
    done
}
check_no_server_left() {
    local left
    for _ in $(seq 1 150); do
        left="$(leftover_servers)"
        [ -z "$left" ] && return 0
        sleep 0.2
    done
    echo "error: servers started by the tests are still running:" >&2
    ps -o pid,etime,args -p $left >&2 || true
    kill $left 2>/dev/null || true
    return 1
}

# A PostgreSQL server for the store's tests on PostgreSQL (scripts/postgres.sh: a temporary
# directory, an unprivileged user, installed from Debian when missing), stopped when this ends.
postgres=($(scripts/postgres.sh start))
export TESTBED_TEST_DATABASE_URL="${postgres[0]}"

# What the later steps need is made while the Swift tests build and run, at a low priority so that
# it takes little from them: the Debian packages and Python environments of the clients, the
# browser test, the cluster test and the deployment check. Logs in $logs.
logs=$(mktemp -d /tmp/testbed-test-XXXXXX)
nice -n 19 bash -c 'Tests/DashboardE2E/run.sh --prepare && scripts/cluster-test.sh --prepare &&
                    scripts/clients/run.sh --prepare && scripts/validate-deploy.sh --prepare' >"$logs/prepare.log" 2>&1 &
prepare=$!
# When a step fails, schemathesis (below) is stopped, as it stops its own server on TERM; the set-up
# is waited for rather than stopped: an apt or dpkg run killed halfway leaves Debian's packages to
# be repaired.
trap '[ -z "${schemathesis:-}" ] || kill -TERM "$schemathesis" 2>/dev/null || true
      wait; scripts/postgres.sh stop "${postgres[1]}"' EXIT
# Waits for the job whose process id is in the variable named $1 (and says how long: the time it
# added to the run); its log is shown when it failed.
finished() {
    local since=$SECONDS pid=${!1}
    printf -v "$1" ''
    wait "$pid" && { echo "test.sh: $(basename "$2" .log) done; waited $((SECONDS - since)) s for it" >&2; return 0; }
    tail -30 "$2" >&2
    echo "error: $(basename "$2" .log) failed (log: $2)" >&2
    return 1
}

# The Swift tests; among them, every fuzz target's seeds and earlier findings through its harness
# (FuzzSeedReplayTests).
swift test
check_no_server_left
finished prepare "$logs/prepare.log"
# The later steps run the testbed the Swift tests ran on (scripts/testbed-binary.sh).
export TESTBED_BINARY="$PWD/.build/debug/testbed"
# /openapi.json against the server: openapi-spec-validator, then schemathesis with every check.
# Mostly schemathesis's own Python on one core, so it runs beside the two steps after it, which
# start servers of their own on free ports (not beside the cluster test, whose replicas must see
# each other's changes within seconds).
scripts/schemathesis.sh >"$logs/schemathesis.log" 2>&1 &
schemathesis=$!
# The clients and runtimes users already have, from PyPI (made into .venv-clients): tritonclient
# over HTTP (binary and JSON) and gRPC, KServe's clients, MLflow's request shapes, our .proto files
# against the published ones, and exported ONNX models in ONNX Runtime on every dataset and family.
scripts/clients/run.sh
# The dashboard in a real browser (headless Chromium), against the testbed just built.
Tests/DashboardE2E/run.sh
finished schemathesis "$logs/schemathesis.log"
tail -3 "$logs/schemathesis.log" >&2
check_no_server_left
# Replicas: three testbed servers on one PostgreSQL and one storage root behind nginx, through the
# pilot flow and its faults (a replica killed while training, PostgreSQL restarted, changes made
# through one replica seen by the others).
scripts/cluster-test.sh
check_no_server_left
# The deployment files offline: the Kubernetes manifests with kubernetes-validate --strict, the
# KServe ones against KServe's CRD schemas in ../shared/specs/kserve (.venv-deploy from PyPI).
scripts/validate-deploy.sh
# Run on their own, each too long for this run's 30 minutes on two cores: fuzzing for new inputs
# (scripts/fuzz.sh all SECONDS: libFuzzer with the address sanitizer, a build of its own of about
# 25 minutes) and the release bundle's test (scripts/bundle-test.sh: a static build in
# .build-bundle, run in a minimal Debian made by debootstrap; docs/deploy.md).
rm -rf "$logs"
