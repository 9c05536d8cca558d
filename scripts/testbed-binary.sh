#!/usr/bin/env bash
# Prints the absolute path of the testbed that the checks outside the Swift tests run against:
# $TESTBED_BINARY when it is set (scripts/test.sh sets it to the build its Swift tests ran on), or
# else the release build, built first when it is missing. Build output goes to stderr.
set -euo pipefail
if [ -n "${TESTBED_BINARY:-}" ]; then
    [ -x "$TESTBED_BINARY" ] || { echo "error: TESTBED_BINARY=$TESTBED_BINARY is not an executable" >&2; exit 1; }
    realpath "$TESTBED_BINARY"
    exit 0
fi
cd "$(dirname "$0")/.."
if [ ! -x .build/release/testbed ]; then
    scripts/install-deps.sh >&2
    swift build -c release --product testbed >&2
fi
echo "$PWD/.build/release/testbed"
