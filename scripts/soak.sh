#!/usr/bin/env bash
# Soak test: scripts/soak.sh [MINUTES] (default 30). Builds testbed, runs mixed load on one
# server (inference, predictions, uploads, training, deletes) and prints resident memory, open
# descriptors and disk use every 30 s; fails on any error or on growth (see scripts/soak.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product testbed >&2
exec python3 scripts/soak.py "${1:-30}" .build/release/testbed
