#!/usr/bin/env python3
"""Validates KServe manifests offline against the openAPIV3Schema of KServe's CRD files.

    check_kserve_manifests.py --specs DIR MANIFEST.yaml...   # exit 1 on any error
    check_kserve_manifests.py --specs DIR --self-test MANIFEST.yaml...

A CRD schema alone would let typos through: Kubernetes prunes (drops) fields a structural schema does
not declare, and JSON Schema allows them, since the CRDs set no additionalProperties. So every object
schema that declares `properties` and neither `additionalProperties` nor
`x-kubernetes-preserve-unknown-fields: true` is closed here (additionalProperties: false), as
`kubectl apply --validate=strict` would reject such a field. Beyond the schema, the values KServe's Go
code checks but the schema leaves as free strings are checked too: protocol versions (v1, v2,
grpc-v1, grpc-v2), names (DNS-1035 labels), and that each InferenceService's runtime is one of the
manifests' ClusterServingRuntimes and supports its model format and protocol.

--self-test breaks the manifests in memory (a misspelt field at several depths, a wrong type, an
unknown protocol, a runtime that does not exist) and fails unless every break is caught.
"""
import argparse
import copy
import re
import sys
from pathlib import Path

import jsonschema
import yaml

PROTOCOLS = {"v1", "v2", "grpc-v1", "grpc-v2"}  # kserve pkg/constants: InferenceServiceProtocol
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
OBJECT_META = {"name", "namespace", "labels", "annotations", "generateName", "finalizers", "ownerReferences"}


def closed(schema):
    """A copy of `schema` in which objects accept only the properties they declare."""
    schema = copy.deepcopy(schema)

    def close(node):
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema


def load_crds(specs):
    """(group, version, kind) -> (CRD file name, closed openAPIV3Schema), for every served version."""
    crds = {}
    for path in sorted(Path(specs).glob("serving.kserve.io_*.yaml")):
        crd = yaml.safe_load(path.read_text())
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                crds[(group, version["name"], kind)] = (path.name, closed(version["schema"]["openAPIV3Schema"]))
    if not crds:
        raise SystemExit(f"error: no KServe CRD files (serving.kserve.io_*.yaml) in {specs}")
    return crds


def where(error):
    return ".".join(str(part) for part in error.absolute_path) or "(document)"


def check_document(document, crds):
    """Errors of one manifest against its CRD schema and the values KServe requires."""
    errors = []
    api_version, kind = document.get("apiVersion", ""), document.get("kind", "")
    group, _, version = api_version.rpartition("/")
    found = crds.get((group, version, kind))
    if found is None:
        known = ", ".join(sorted(f"{g}/{v} {k}" for g, v, k in crds))
        return [f"no CRD serves apiVersion {api_version!r} kind {kind!r} (known: {known})"]
    _, schema = found
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        errors.append(f"{where(error)}: {error.message}")
    metadata = document.get("metadata") or {}
    for key in sorted(set(metadata) - OBJECT_META):
        errors.append(f"metadata: unexpected field {key!r}")
    name = metadata.get("name", "")
    if not DNS1035.match(name) or len(name) > 63:
        errors.append(f"metadata.name: {name!r} is not a DNS-1035 label (lower case letters, digits and '-', starting with a letter)")
    spec = document.get("spec") or {}
    if kind in ("ClusterServingRuntime", "ServingRuntime"):
        for index, protocol in enumerate(spec.get("protocolVersions") or []):
            if protocol not in PROTOCOLS:
                errors.append(f"spec.protocolVersions.{index}: {protocol!r} is not one of {sorted(PROTOCOLS)}")
    if kind == "InferenceService":
        model = (spec.get("predictor") or {}).get("model") or {}
        protocol = model.get("protocolVersion")
        if protocol is not None and protocol not in PROTOCOLS:
            errors.append(f"spec.predictor.model.protocolVersion: {protocol!r} is not one of {sorted(PROTOCOLS)}")
    return errors


def check_references(documents):
    """Each InferenceService's runtime is among the manifests and serves its format and protocol."""
    errors = []
    runtimes = {d["metadata"]["name"]: d.get("spec") or {} for d in documents
                if d.get("kind") == "ClusterServingRuntime" and (d.get("metadata") or {}).get("name")}
    for document in documents:
        if document.get("kind") != "InferenceService":
            continue
        name = (document.get("metadata") or {}).get("name")
        model = ((document.get("spec") or {}).get("predictor") or {}).get("model") or {}
        runtime_name = model.get("runtime")
        if runtime_name is None:
            continue
        runtime = runtimes.get(runtime_name)
        if runtime is None:
            errors.append(f"InferenceService {name}: runtime {runtime_name!r} is not a ClusterServingRuntime of these manifests ({sorted(runtimes)})")
            continue
        wanted = model.get("modelFormat") or {}
        formats = runtime.get("supportedModelFormats") or []
        if not any(f.get("name") == wanted.get("name") and wanted.get("version") in (None, f.get("version")) for f in formats):
            errors.append(f"InferenceService {name}: runtime {runtime_name} does not support model format {wanted}")
        protocol = model.get("protocolVersion")
        if protocol is not None and protocol not in (runtime.get("protocolVersions") or []):
            errors.append(f"InferenceService {name}: runtime {runtime_name} does not declare protocol {protocol!r}")
    return errors


def check_all(documents, crds):
    errors = []
    for source, document in documents:
        errors += [f"{source}: {error}" for error in check_document(document, crds)]
    errors += check_references([document for _, document in documents])
    return errors


def breaks(documents):
    """(description, broken copy of the documents) for the self-test."""
    def first(kind):
        return next(i for i, (_, d) in enumerate(documents) if d.get("kind") == kind)

    def broken(kind, change):
        copied = copy.deepcopy(documents)
        change(copied[first(kind)][1])
        return copied

    def rename(node, old, new):
        node[new] = node.pop(old)

    return [
        ("a misspelt field of spec (ClusterServingRuntime)",
         broken("ClusterServingRuntime", lambda d: rename(d["spec"], "protocolVersions", "protocolVersion"))),
        ("a misspelt field of a container (ClusterServingRuntime)",
         broken("ClusterServingRuntime", lambda d: rename(d["spec"]["containers"][0], "args", "arg"))),
        ("a misspelt field of a probe, four levels down",
         broken("ClusterServingRuntime", lambda d: rename(d["spec"]["containers"][0]["readinessProbe"]["httpGet"], "path", "paht"))),
        ("a misspelt field of the predictor's model (InferenceService)",
         broken("InferenceService", lambda d: rename(d["spec"]["predictor"]["model"], "storageUri", "storageURI"))),
        ("a misspelt top-level section (InferenceService)",
         broken("InferenceService", lambda d: rename(d["spec"], "predictor", "predicter"))),
        ("a wrong type (minReplicas as text)",
         broken("InferenceService", lambda d: d["spec"]["predictor"].__setitem__("minReplicas", "one"))),
        ("an unknown protocol version",
         broken("ClusterServingRuntime", lambda d: d["spec"]["protocolVersions"].append("grpc-V2"))),
        ("a runtime that is not among the manifests",
         broken("InferenceService", lambda d: d["spec"]["predictor"]["model"].__setitem__("runtime", "kserve-testbd"))),
        ("a model format the runtime does not support",
         broken("InferenceService", lambda d: d["spec"]["predictor"]["model"]["modelFormat"].__setitem__("name", "onnx"))),
        ("a wrong apiVersion",
         broken("InferenceService", lambda d: d.__setitem__("apiVersion", "serving.kserve.io/v1"))),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--specs", required=True, help="folder with KServe's CRD files (serving.kserve.io_*.yaml)")
    parser.add_argument("--self-test", action="store_true", help="also check that broken copies of the manifests fail")
    parser.add_argument("manifests", nargs="+")
    arguments = parser.parse_args()
    crds = load_crds(arguments.specs)
    documents = []
    for path in arguments.manifests:
        for index, document in enumerate(yaml.safe_load_all(Path(path).read_text())):
            if document is not None:
                documents.append((f"{path}#{index}", document))
    errors = check_all(documents, crds)
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)
    if errors:
        return 1
    for source, document in documents:
        crd_file, _ = crds[tuple([*document["apiVersion"].rsplit("/", 1), document["kind"]])]
        print(f"ok {source}: {document['kind']} {document['metadata']['name']} against {crd_file}")
    if arguments.self_test:
        missed = []
        for description, broken in breaks(documents):
            found = check_all(broken, crds)
            if found:
                print(f"ok self-test: {description} is caught: {found[0]}")
            else:
                missed.append(description)
        for description in missed:
            print(f"ERROR self-test: {description} was not caught", file=sys.stderr)
        if missed:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
