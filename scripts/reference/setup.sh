#!/usr/bin/env bash
# Creates .venv-reference with the pinned reference libraries (only needed to regenerate fixtures).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -m venv .venv-reference
.venv-reference/bin/pip install --quiet -r scripts/reference/requirements.txt
