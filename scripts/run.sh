#!/usr/bin/env bash
# The main job: builds `testbed` and runs the server on the embedded store (SQLite under ./data)
# with the demonstration models from ./models, on http://127.0.0.1:8080 (TESTBED_PORT=0 picks a
# free port). The admin key is TESTBED_ADMIN_KEY, or else created in ./data/admin.key on first start.
# Stop it with Ctrl-C: requests in flight finish and a running training job is marked interrupted.
# Options after the command go to `testbed serve` (see `testbed serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product testbed
exec .build/release/testbed serve "$@"
