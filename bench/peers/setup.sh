#!/usr/bin/env bash
# Everything the benchmark needs on a fresh Debian machine with the Swift toolchain:
# - from Debian's packages, when missing: OpenBLAS and pkg-config (scripts/install-deps.sh), wrk
#   and h2load from nghttp2-client (the server suite's load generators, HTTP/1.1 and gRPC) and
#   python3-venv;
# - from PyPI into .venv-bench, where `benchmark` finds them: the peers (scikit-learn, LightGBM,
#   ONNX Runtime with skl2onnx, pandas and pyarrow, MLServer with its scikit-learn runtime, FastAPI with
#   uvicorn for fastapi_peer.py), pinned;
# - a release build of both `testbed` (the server suite starts it) and `benchmark`.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/install-deps.sh

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} (for the benchmark)..." >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
.venv-bench/bin/pip install --quiet -r bench/peers/requirements.txt
.venv-bench/bin/python bench/peers/peer.py <<< '{"op": "versions"}'
swift build -c release
