#!/usr/bin/env bash
# The dashboard's browser test. Installs what it needs when missing: Debian's chromium and
# chromium-driver, and Selenium (pinned in requirements.txt) into .venv-e2e. Drives the testbed
# that scripts/testbed-binary.sh names (the one scripts/test.sh tested, or the release build).
# Screenshots go to .build/dashboard-screenshots (or --screenshots DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "Installing chromium and chromium-driver (for the dashboard's browser test)..." >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! .venv-e2e/bin/python -c "import selenium" 2>/dev/null; then
    python3 -m venv .venv-e2e
    .venv-e2e/bin/pip install --quiet -r Tests/DashboardE2E/requirements.txt
fi
# --prepare: only what it installs (scripts/test.sh installs it while the Swift tests run).
[ "${1:-}" = --prepare ] && exit 0
testbed=$(scripts/testbed-binary.sh)
exec .venv-e2e/bin/python Tests/DashboardE2E/dashboard_e2e.py --testbed "$testbed" "$@"
