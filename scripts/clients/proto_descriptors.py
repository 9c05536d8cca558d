"""Reading .proto files as descriptors, for comparing our definitions with published ones
(check_onnx_proto.py, check_inference_proto.py). Compiled with grpc_tools.protoc (grpcio-tools)."""
import os
import sys
import tempfile

from google.protobuf import descriptor_pb2
from grpc_tools import protoc


def descriptor(path):
    """The FileDescriptorProto of the .proto file at `path`."""
    directory, name = os.path.split(os.path.abspath(path))
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "set.pb")
        status = protoc.main(["protoc", f"-I{directory}", f"--descriptor_set_out={out}", name])
        if status != 0:
            sys.exit(f"protoc could not compile {path}")
        files = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as handle:
            files.ParseFromString(handle.read())
    return files.file[0]


def messages(file):
    """Every message of a file (nested ones too) by its full name."""
    found = {}
    for message in file.message_type:
        found[message.name] = message
        found.update(nested_messages(message, message.name + "."))
    return found


def nested_messages(message, prefix):
    found = {}
    for nested in message.nested_type:
        found[prefix + nested.name] = nested
        found.update(nested_messages(nested, prefix + nested.name + "."))
    return found


def enums(file):
    """Every enum (top level and nested in messages) by its full name."""
    found = {enum.name: enum for enum in file.enum_type}
    for name, message in messages(file).items():
        for enum in message.enum_type:
            found[f"{name}.{enum.name}"] = enum
    return found


def field_signature(message, field):
    oneof = message.oneof_decl[field.oneof_index].name if field.HasField("oneof_index") else None
    return {
        "number": field.number,
        "type": descriptor_pb2.FieldDescriptorProto.Type.Name(field.type),
        "type_name": field.type_name,
        "label": descriptor_pb2.FieldDescriptorProto.Label.Name(field.label),
        "oneof": oneof,
        "packed": field.options.packed if field.options.HasField("packed") else None,
        "default": field.default_value if field.HasField("default_value") else None,
    }
