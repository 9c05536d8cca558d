#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test (Swift Testing).
# The tests read committed fixtures and datasets; they need neither Python nor a network.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build
