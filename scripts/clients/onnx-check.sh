#!/usr/bin/env bash
# Checks exported ONNX models against the testbed's own predictions with ONNX Runtime from PyPI,
# on every shared dataset and family (scripts/clients/onnx_check.py), and our onnx.proto against
# ONNX's published onnx-ml.proto (scripts/clients/check_onnx_proto.py).
# Makes the virtual environment .venv-clients from scripts/clients/requirements.txt when it is
# missing; the testbed is scripts/testbed-binary.sh's. About two minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${CLIENTS_VENV:-.venv-clients}
if [ ! -x "$venv/bin/python" ]; then
    echo "making $venv from scripts/clients/requirements.txt"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q -r scripts/clients/requirements.txt
fi
testbed=$(scripts/testbed-binary.sh)
"$venv/bin/python" scripts/clients/check_onnx_proto.py
"$venv/bin/python" scripts/clients/onnx_check.py --testbed "$testbed" "$@"
