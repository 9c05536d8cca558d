#!/usr/bin/env bash
# Installs the system libraries the testbed builds against, when they are missing:
# OpenBLAS (BLAS and LAPACK) and pkg-config, from Debian's packages.
set -euo pipefail

if pkg-config --exists openblas 2>/dev/null; then
    exit 0
fi
echo "Installing libopenblas-dev and pkg-config (needed to build the testbed)..." >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
pkg-config --exists openblas || { echo "error: OpenBLAS is still not found by pkg-config" >&2; exit 1; }
