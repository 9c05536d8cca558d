"""Our .proto files against the published definitions, field by field.

- Sources/TestbedServer/GRPC/Protos/grpc_predict_v2.proto: every message and RPC that KServe's
  grpc_predict_v2.proto (scripts/clients/published, copied from ../shared/specs) defines must be
  here, identical; the repository extension's messages and RPCs must equal Triton's, as compiled into
  tritonclient.grpc (its service_pb2 descriptors).
- Sources/InferenceCore/Export/ONNX/Protos/onnx.proto (a subset): every message, field and enum value
  we define must be ONNX's (scripts/clients/published/onnx-ml.proto) — same name, number, type and label.
Compiled to descriptors with grpc_tools.protoc (grpcio-tools from PyPI). Exits non-zero on a difference.
"""
import os
import sys
import tempfile

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUBLISHED = os.path.join(os.path.dirname(os.path.realpath(__file__)), "published")
failures = []


def compile_proto(path):
    """The file's FileDescriptorProto."""
    with tempfile.TemporaryDirectory() as directory:
        out = os.path.join(directory, "set.pb")
        code = protoc.main(["protoc", f"-I{os.path.dirname(path)}", f"--descriptor_set_out={out}", os.path.basename(path)])
        if code != 0:
            raise SystemExit(f"protoc failed on {path}")
        descriptors = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as file:
            descriptors.ParseFromString(file.read())
        return descriptors.file[0]


def messages(file):
    """Full name → DescriptorProto, nested messages included; and full name → EnumDescriptorProto."""
    found, enums = {}, {}

    def walk(prefix, message_types, enum_types):
        for enum in enum_types:
            enums[f"{prefix}.{enum.name}"] = enum
        for message in message_types:
            name = f"{prefix}.{message.name}"
            found[name] = message
            walk(name, message.nested_type, message.enum_type)

    walk(file.package, file.message_type, file.enum_type)
    return found, enums


def field_key(field):
    return (field.number, field.type, field.label, field.type_name, field.oneof_index if field.HasField("oneof_index") else None)


def compare_message(name, ours, theirs, subset):
    """Every field of ours is theirs; without `subset`, theirs are all ours too."""
    their_fields = {field.name: field for field in theirs.field}
    for field in ours.field:
        match = their_fields.get(field.name)
        if match is None or field_key(field) != field_key(match):
            failures.append(f"{name}.{field.name}: ours {field_key(field)}, published {field_key(match) if match else 'absent'}")
    if not subset:
        missing = set(their_fields) - {field.name for field in ours.field}
        if missing:
            failures.append(f"{name}: lacks {sorted(missing)}")


def check_inference():
    ours = compile_proto(os.path.join(ROOT, "Sources/TestbedServer/GRPC/Protos/grpc_predict_v2.proto"))
    kserve_path = os.path.join(PUBLISHED, "grpc_predict_v2.proto")
    kserve = compile_proto(kserve_path)
    our_messages, _ = messages(ours)
    kserve_messages, _ = messages(kserve)
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
    triton_messages, _ = messages(triton)
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


def check_onnx():
    path = os.path.join(ROOT, "Sources/InferenceCore/Export/ONNX/Protos/onnx.proto")
    if not os.path.exists(path):
        failures.append(f"{path} is missing")
        return
    ours = compile_proto(path)
    published = compile_proto(os.path.join(PUBLISHED, "onnx-ml.proto"))
    if (ours.package, ours.syntax) != (published.package, published.syntax):
        failures.append(f"onnx.proto: package/syntax {ours.package}/{ours.syntax}, published {published.package}/{published.syntax}")
    our_messages, our_enums = messages(ours)
    their_messages, their_enums = messages(published)
    for name, message in our_messages.items():
        if name not in their_messages:
            failures.append(f"{name}: not in ONNX's definition")
        else:
            compare_message(name, message, their_messages[name], subset=True)
    for name, enum in our_enums.items():
        theirs = {value.name: value.number for value in their_enums.get(name, descriptor_pb2.EnumDescriptorProto()).value}
        for value in enum.value:
            if theirs.get(value.name) != value.number:
                failures.append(f"{name}.{value.name} = {value.number}: published {theirs.get(value.name)}")
    print(f"onnx: {len(our_messages)} messages and {len(our_enums)} enums checked against onnx-ml.proto")


check_inference()
check_onnx()
for failure in failures:
    print("FAIL  " + failure)
print(f"{len(failures)} difference(s)")
sys.exit(1 if failures else 0)
