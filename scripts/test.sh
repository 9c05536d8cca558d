#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test (Swift Testing).
# The tests read committed fixtures and datasets; they need neither Python nor a network.
# They run on an optimised build: it keeps bounds, overflow and exclusivity checks, tests the code
# as it ships, and trains the tree models in the tests in seconds rather than minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift test -c release
# The dashboard in a real browser (headless Chromium), against the testbed just built.
Tests/DashboardE2E/run.sh
