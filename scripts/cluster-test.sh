#!/usr/bin/env bash
# Three `testbed serve` replicas on one PostgreSQL and one storage root behind nginx, on this
# machine: the pilot flow through nginx, then a replica killed while it trains, PostgreSQL
# restarted, a model deleted and a key revoked through one replica, and a replica with another
# admin key (scripts/cluster/cluster_test.py). Installs nginx and PostgreSQL from Debian's
# packages when missing; PostgreSQL runs as an unprivileged user in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    echo "installing nginx from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null
fi
# --prepare: only nginx (scripts/test.sh installs it while the Swift tests run).
[ "${1:-}" = --prepare ] && exit 0
testbed=$(scripts/testbed-binary.sh)

postgres=($(scripts/postgres.sh start))
trap 'scripts/postgres.sh stop "${postgres[1]}"' EXIT
python3 scripts/cluster/cluster_test.py "$testbed" "${postgres[0]}" "${postgres[1]}"
