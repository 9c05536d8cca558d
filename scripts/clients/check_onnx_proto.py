#!/usr/bin/env python3
"""Checks our ONNX subset (Sources/InferenceCore/Export/ONNX/Protos/onnx.proto) against ONNX's
published onnx-ml.proto, field by field.

Both files are compiled to descriptor sets with grpc_tools.protoc (from grpcio-tools); then every
message, field and enum value WE define must exist in the published file with the same name,
number, type, type name, label, oneof and packed option, and both files must declare the same
syntax and package. Leaving published fields out is allowed (that is what a subset is);
anything we define that differs, or that the published file lacks, is an error.

Usage: check_onnx_proto.py [--ours PATH] [--published PATH]; exits 1 on any difference.
"""
import argparse
import os
import sys

from proto_descriptors import descriptor, enums, field_signature, messages

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OURS = os.path.join(ROOT, "Sources/InferenceCore/Export/ONNX/Protos/onnx.proto")
# An unchanged copy of ../shared/specs/onnx/onnx-ml.proto, committed so that a clone can check itself.
PUBLISHED = os.path.join(os.path.dirname(os.path.realpath(__file__)), "published", "onnx-ml.proto")


def compare(ours, published):
    problems, checked = [], {"messages": 0, "fields": 0, "enums": 0, "enum values": 0}
    for attribute in ("syntax", "package"):
        if getattr(ours, attribute) != getattr(published, attribute):
            problems.append(f"{attribute}: ours '{getattr(ours, attribute)}', published '{getattr(published, attribute)}'")
    published_messages = messages(published)
    for name, message in messages(ours).items():
        checked["messages"] += 1
        reference = published_messages.get(name)
        if reference is None:
            problems.append(f"message {name}: not in the published file")
            continue
        reference_fields = {field.name: field for field in reference.field}
        for field in message.field:
            checked["fields"] += 1
            other = reference_fields.get(field.name)
            if other is None:
                problems.append(f"{name}.{field.name}: not in the published message")
                continue
            mine, theirs = field_signature(message, field), field_signature(reference, other)
            for key in mine:
                if mine[key] != theirs[key]:
                    problems.append(f"{name}.{field.name}: {key} is {mine[key]!r}, published {theirs[key]!r}")
    published_enums = enums(published)
    for name, enum in enums(ours).items():
        checked["enums"] += 1
        reference = published_enums.get(name)
        if reference is None:
            problems.append(f"enum {name}: not in the published file")
            continue
        values = {value.name: value.number for value in reference.value}
        for value in enum.value:
            checked["enum values"] += 1
            if values.get(value.name) != value.number:
                problems.append(f"{name}.{value.name} = {value.number}: published {values.get(value.name)!r}")
    return problems, checked


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", default=OURS)
    parser.add_argument("--published", default=PUBLISHED)
    args = parser.parse_args()
    problems, checked = compare(descriptor(args.ours), descriptor(args.published))
    summary = ", ".join(f"{count} {kind}" for kind, count in checked.items())
    if problems:
        print(f"onnx.proto differs from the published onnx-ml.proto ({summary} checked):")
        for problem in problems:
            print("  " + problem)
        return 1
    print(f"onnx.proto matches the published onnx-ml.proto: {summary} checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
