#!/usr/bin/env bash
# Regenerates the committed Swift code for the protocols we speak in protobuf:
#   - the Open Inference Protocol (GRPC/Protos/grpc_predict_v2.proto) → messages and the gRPC service
#   - ONNX (Export/ONNX/Protos/onnx.proto) → messages only, used to write exported models
# The .proto files are ours, written to match the published definitions in ../shared/specs field
# for field (scripts/clients/check_onnx_proto.py checks the ONNX one); the generated code is committed because
# the protobuf plugin's first build takes about ten minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if ! command -v protoc >/dev/null; then
    echo "installing protoc (protobuf-compiler) from Debian"
    apt-get install -y -q protobuf-compiler >/dev/null
fi

# The plugins, built once from the package mirror at the versions Package.swift resolves.
# Built once (about ten minutes) and kept in .build-protoc; PROTOC_PLUGINS_DIR shares one build between clones.
plugins=${PROTOC_PLUGINS_DIR:-$root/.build-protoc}
if [ ! -x "$plugins/grpc-swift-protobuf/.build/release/protoc-gen-grpc-swift-2" ]; then
    mkdir -p "$plugins"
    [ -d "$plugins/grpc-swift-protobuf" ] || \
        git clone -q --branch 2.4.1 https://github.com/grpc/grpc-swift-protobuf "$plugins/grpc-swift-protobuf"
    (cd "$plugins/grpc-swift-protobuf" &&
        swift build -c release --product protoc-gen-swift &&
        swift build -c release --product protoc-gen-grpc-swift-2)
fi
bin=$plugins/grpc-swift-protobuf/.build/release

generate() { # proto-dir proto-file out-dir [grpc-options] [visibility]
    local dir=$1 file=$2 out=$3 grpc=${4:-} visibility=${5:-Package}
    mkdir -p "$out"
    protoc --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
        --swift_out="$out" --swift_opt=Visibility=$visibility \
        -I "$dir" "$dir/$file"
    if [ -n "$grpc" ]; then
        protoc --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2" \
            --grpc-swift_out="$out" --grpc-swift_opt=Visibility=$visibility,$grpc \
            -I "$dir" "$dir/$file"
    fi
}

generate Sources/TestbedServer/GRPC/Protos grpc_predict_v2.proto Sources/TestbedServer/GRPC/Generated Client=true,Server=true
# The benchmark's load generator: the client only, internal to its target (it cannot import the executable's).
generate Sources/TestbedServer/GRPC/Protos grpc_predict_v2.proto Sources/benchmark/Generated Client=true,Server=false Internal
[ -f Sources/InferenceCore/Export/ONNX/Protos/onnx.proto ] && generate Sources/InferenceCore/Export/ONNX/Protos onnx.proto Sources/InferenceCore/Export/ONNX/Generated
echo "generated:"; git status --short -- '*/Generated/*'
