#!/usr/bin/env bash
# Clients in CI: the clients and runtimes users already have, against the testbed just built.
# Makes the virtual environment .venv-clients from scripts/clients/requirements.txt when missing
# (and with --prepare, only that),
# starts `testbed serve` with gRPC on free ports and its own data directory, makes a tenant that
# uploads three real datasets and trains a model on each through the pilot API, then runs:
#   check_inference_proto.py          our .proto files against the published definitions, field by field
#   check_http_clients.py    tritonclient.http (binary on and off), KServe's REST client, MLflow scoring
#   check_grpc_clients.py    tritonclient.grpc and KServe's gRPC client
#   onnx-check.sh            exported models in ONNX Runtime, every shared dataset and family
# Each compares its numbers with the pilot API's answers for the same rows; any mismatch fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

venv=.venv-clients
installed() { # each module in a process of its own: tritonclient.grpc and kserve both register inference.* protobufs
    for module in tritonclient.http tritonclient.grpc kserve onnxruntime grpc_tools schemathesis openapi_spec_validator; do
        $venv/bin/python -c "import $module" 2>/dev/null || return 1
    done
}
if ! installed; then
    echo "making $venv (the client libraries from PyPI)..." >&2
    python3 -m venv $venv
    $venv/bin/pip install --quiet --upgrade pip
    $venv/bin/pip install --quiet -r scripts/clients/requirements.txt
fi
# --prepare: only the environment (scripts/test.sh makes it while the Swift tests run).
[ "${1:-}" = --prepare ] && exit 0
testbed=$(scripts/testbed-binary.sh)

data=$(mktemp -d /tmp/testbed-clients-XXXXXX)
server=""
stop() {
    if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$data"
}
trap stop EXIT

"$testbed" serve --port 0 --grpc-port 0 --data-dir "$data/store" --models-dir models > "$data/server.log" 2>&1 &
server=$!
port="" grpc_port=""
for _ in $(seq 1 300); do
    port=$(sed -n 's/.*"message":"listening on http[^"]*".*"port":"\([0-9]*\)".*/\1/p' "$data/server.log" | head -1)
    grpc_port=$(sed -n 's/.*"grpc_port":"\([0-9]*\)".*/\1/p' "$data/server.log" | head -1)
    [ -n "$port" ] && [ -n "$grpc_port" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$data/server.log" >&2; echo "the server stopped" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] && [ -n "$grpc_port" ] || { cat "$data/server.log" >&2; echo "the server did not say where it listens" >&2; exit 1; }
echo "testbed serve: http on $port, gRPC on $grpc_port" >&2

export TESTBED_URL="http://127.0.0.1:$port" TESTBED_GRPC_ADDRESS="127.0.0.1:$grpc_port"
export TESTBED_ADMIN_KEY_FILE="$data/store/admin.key"
eval "$($venv/bin/python scripts/clients/prepare_tenant.py)"
echo "tenant ready; models: $TESTBED_MODELS" >&2

status=0
for check in check_inference_proto.py check_http_clients.py check_grpc_clients.py; do
    echo "== $check" >&2
    $venv/bin/python "scripts/clients/$check" || status=1
done
echo "== onnx-check.sh" >&2
scripts/clients/onnx-check.sh || status=1
exit $status
