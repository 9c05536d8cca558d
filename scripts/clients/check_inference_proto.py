"""Our Open Inference Protocol .proto against the published definitions, field by field
(check_onnx_proto.py does the same for our ONNX subset).

- Sources/TestbedServer/GRPC/Protos/grpc_predict_v2.proto: every message and RPC that KServe's
  grpc_predict_v2.proto (scripts/clients/published, copied from ../shared/specs) defines must be
  here, identical; the repository extension's messages and RPCs must equal Triton's, as compiled into
  tritonclient.grpc (its service_pb2 descriptors).
Compiled to descriptors with grpc_tools.protoc (grpcio-tools from PyPI). Exits non-zero on a difference.
"""
import os
import sys

from google.protobuf import descriptor_pb2

from proto_descriptors import descriptor, field_signature, messages

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUBLISHED = os.path.join(os.path.dirname(os.path.realpath(__file__)), "published")
failures = []


def compare_message(name, ours, theirs, subset):
    """Every field of ours is theirs; without `subset`, theirs are all ours too."""
    their_fields = {field.name: field for field in theirs.field}
    for field in ours.field:
        match = their_fields.get(field.name)
        mine, published = field_signature(ours, field), match and field_signature(theirs, match)
        if mine != published:
            failures.append(f"{name}.{field.name}: ours {mine}, published {published or 'absent'}")
    if not subset:
        missing = set(their_fields) - {field.name for field in ours.field}
        if missing:
            failures.append(f"{name}: lacks {sorted(missing)}")


def check_inference():
    ours = descriptor(os.path.join(ROOT, "Sources/TestbedServer/GRPC/Protos/grpc_predict_v2.proto"))
    kserve_path = os.path.join(PUBLISHED, "grpc_predict_v2.proto")
    kserve = descriptor(kserve_path)
    our_messages, kserve_messages = messages(ours), messages(kserve)
    for name, published in kserve_messages.items():
        if name not in our_messages:
            failures.append(f"{name}: in KServe's definition, not in ours")
        else:
            compare_message(name, our_messages[name], published, subset=False)
    our_service = {method.name: method for method in ours.service[0].method}
    for method in kserve.service[0].method:
        mine = our_service.get(method.name)
        if mine is None or (mine.input_type, mine.output_type) != (method.input_type, method.output_type):
            failures.append(f"rpc {method.name}: differs from KServe's")
    # The repository extension, against Triton's own compiled definition.
    from tritonclient.grpc import service_pb2
    triton = descriptor_pb2.FileDescriptorProto()
    service_pb2.DESCRIPTOR.CopyToProto(triton)
    triton_messages = messages(triton)
    triton_service = {method.name: method for method in triton.service[0].method if method.name.startswith("Repository")}
    for name in [n for n in our_messages if n not in kserve_messages]:
        if name not in triton_messages:
            failures.append(f"{name}: neither KServe's nor Triton's")
        else:
            compare_message(name, our_messages[name], triton_messages[name], subset=False)
    for method_name, method in triton_service.items():
        mine = our_service.get(method_name)
        if mine is None or (mine.input_type, mine.output_type) != (method.input_type, method.output_type):
            failures.append(f"rpc {method_name}: differs from Triton's")
    print(f"inference: {len(our_messages)} messages, {len(our_service)} RPCs checked against KServe ({len(kserve_messages)}) and Triton")


check_inference()
for failure in failures:
    print("FAIL  " + failure)
print(f"{len(failures)} difference(s)")
sys.exit(1 if failures else 0)
