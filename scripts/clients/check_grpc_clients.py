#!/usr/bin/env python3
"""Checks `testbed serve --grpc-port` with the gRPC clients people already have.

    TESTBED_URL=http://127.0.0.1:8080 TESTBED_GRPC_ADDRESS=127.0.0.1:8081 TESTBED_KEY=tb_... \
    TESTBED_MODELS=glass-type,servo-rise-time python scripts/clients/check_grpc_clients.py [triton|kserve]

For each model of TESTBED_MODELS, rows are made from its model card (numbers spread over each
feature's training range, categories in turn) and scored three ways: by the pilot API's
`/api/v1/models/{name}/predict` (JSON), by tritonclient.grpc (raw tensors, its default) and by
KServe's InferenceGRPCClient (typed contents from lists, and raw from numpy). The numbers must
equal /predict's bit for bit, the labels exactly. tritonclient also checks server and model
metadata, readiness, and the repository index, unload and load; KServe's client readiness.

tritonclient and kserve each compile their own copy of the protocol's messages into protobuf's
default descriptor pool, so they cannot be imported into one interpreter: without an argument
this script runs itself once per client and fails if either does. Exits non-zero on any mismatch.
"""
import json
import os
import subprocess
import sys
import urllib.request

ROWS = 12
HEADERS = [("authorization", f"Bearer {os.environ.get('TESTBED_KEY', '')}")]


class Checks:
    """Collects failures instead of stopping at the first, so one run shows every mismatch."""

    def __init__(self, client):
        self.client = client
        self.failures = []
        self.passed = 0

    def expect(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failures.append(what)
            print(f"  FAIL [{self.client}] {what}", flush=True)

    def finish(self):
        print(f"{self.client}: {self.passed} checks passed, {len(self.failures)} failed", flush=True)
        return 1 if self.failures else 0


def rest(method, path, body=None):
    request = urllib.request.Request(os.environ["TESTBED_URL"].rstrip("/") + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {os.environ['TESTBED_KEY']}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def sample(model):
    """Rows for `model` from its card and V2 metadata: the inputs (name, datatype), each input's
    values, the /predict rows and /predict's answers for them."""
    card = rest("GET", f"/api/v1/models/{model}")
    metadata = rest("GET", f"/v2/models/{model}")
    features = {feature["name"]: feature for feature in card["features"]}
    inputs = [(tensor["name"], tensor["datatype"]) for tensor in metadata["inputs"]]
    columns = {}
    for name, datatype in inputs:
        feature = features.get(name, {})
        if datatype == "FP64":
            low, high = feature.get("min", 0.0), feature.get("max", 1.0)
            columns[name] = [low + (high - low) * (row + 0.5) / ROWS for row in range(ROWS)]
        elif feature.get("categories"):
            categories = feature["categories"]
            columns[name] = [categories[row % len(categories)] for row in range(ROWS)]
        else:
            # A date or time: the training span's ends, in turn.
            ends = [feature.get("first", "2026-01-05 13:45:00"), feature.get("last", "2026-01-05 13:45:00")]
            columns[name] = [ends[row % 2] for row in range(ROWS)]
    rows = [{name: columns[name][row] for name, _ in inputs} for row in range(ROWS)]
    answers = rest("POST", f"/api/v1/models/{model}/predict", {"rows": rows})["predictions"]
    return card, inputs, columns, answers


def compare(checks, model, card, answers, labels, probabilities, values, intervals, how):
    """The client's outputs against /predict's answers for the same rows."""
    import numpy as np
    if card["task"] == "classification":
        classes = card["classes"]
        checks.expect([str(label) for label in labels] == [str(answer["prediction"]) for answer in answers],
                      f"{model} {how}: labels {list(labels)[:4]}… differ from /predict's")
        expected = np.array([[answer["probabilities"][label] for label in classes] for answer in answers], dtype=np.float64)
        got = np.asarray(probabilities, dtype=np.float64).reshape(expected.shape)
        checks.expect(np.array_equal(got.view(np.uint64), expected.view(np.uint64)),
                      f"{model} {how}: predict_proba differs from /predict's probabilities (largest difference {np.max(np.abs(got - expected)):.3g})")
    else:
        expected = np.array([answer["prediction"] for answer in answers], dtype=np.float64)
        got = np.asarray(values, dtype=np.float64).reshape(expected.shape)
        checks.expect(np.array_equal(got.view(np.uint64), expected.view(np.uint64)),
                      f"{model} {how}: predict differs from /predict (largest difference {np.max(np.abs(got - expected)):.3g})")
        if intervals is not None and "interval" in answers[0]:
            expected = np.array([answer["interval"] for answer in answers], dtype=np.float64)
            got = np.asarray(intervals, dtype=np.float64).reshape(expected.shape)
            checks.expect(np.array_equal(got.view(np.uint64), expected.view(np.uint64)), f"{model} {how}: predict_interval differs from /predict's interval")


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def check_triton(models):
    import numpy as np
    import tritonclient.grpc as grpcclient
    from tritonclient.utils import InferenceServerException

    checks = Checks("tritonclient.grpc")
    client = grpcclient.InferenceServerClient(url=os.environ["TESTBED_GRPC_ADDRESS"])
    headers = dict(HEADERS)
    checks.expect(client.is_server_live(), "server is not live")
    checks.expect(client.is_server_ready(), "server is not ready")
    metadata = client.get_server_metadata(headers=headers)
    checks.expect(metadata.name == rest("GET", "/v2")["name"], f"server metadata name {metadata.name!r} differs from REST's")
    try:
        client.get_server_metadata()
        checks.expect(False, "server metadata without a key was answered")
    except InferenceServerException as error:
        checks.expect("UNAUTHENTICATED" in str(error.status()), f"server metadata without a key: {error.status()} {error.message()}")

    index = {entry.name: entry for entry in client.get_model_repository_index(headers=headers).models}
    for model in models:
        checks.expect(index.get(model) is not None and index[model].state == "READY", f"{model} is not READY in the repository index")
        checks.expect(client.is_model_ready(model, headers=headers), f"{model} is not ready")
        card, inputs, columns, answers = sample(model)
        model_metadata = client.get_model_metadata(model, headers=headers)
        checks.expect([(tensor.name, tensor.datatype) for tensor in model_metadata.inputs] == inputs,
                      f"{model}: metadata inputs differ from REST's")
        tensors = []
        for name, datatype in inputs:
            tensor = grpcclient.InferInput(name, [ROWS], datatype)
            values = columns[name]
            tensor.set_data_from_numpy(np.array(values, dtype=np.float64) if datatype == "FP64"
                                       else np.array([value.encode() for value in values], dtype=np.object_))
            tensors.append(tensor)
        result = client.infer(model, tensors, headers=headers, request_id="triton-check")
        labels = [text(value) for value in result.as_numpy("predict")] if card["task"] == "classification" else None
        compare(checks, model, card, answers, labels, result.as_numpy("predict_proba"), result.as_numpy("predict"),
                result.as_numpy("predict_interval"), "tritonclient.grpc raw inputs")
        checks.expect(result.get_response().id == "triton-check", f"{model}: the request id did not come back")

        # The repository extension: unloaded, the model is not ready and refuses inference; loaded, it serves again.
        client.unload_model(model, headers=headers)
        checks.expect(not client.is_model_ready(model, headers=headers), f"{model} is still ready after unload")
        ready = {entry.name for entry in client.get_model_repository_index(headers=headers, ).models if entry.state == "READY"}
        checks.expect(model not in ready, f"{model} is still READY in the index after unload")
        try:
            client.infer(model, tensors, headers=headers)
            checks.expect(False, f"{model}: inference on an unloaded model was answered")
        except InferenceServerException as error:
            checks.expect("UNAVAILABLE" in str(error.status()) and "is not ready: it was unloaded" in error.message(),
                          f"{model}: inference when unloaded: {error.status()} {error.message()}")
        client.load_model(model, headers=headers)
        checks.expect(client.is_model_ready(model, headers=headers), f"{model} is not ready after load")

    try:
        client.infer("no-such-model-here", [], headers=headers)
        checks.expect(False, "an unknown model was answered")
    except InferenceServerException as error:
        checks.expect("NOT_FOUND" in str(error.status()), f"unknown model: {error.status()} {error.message()}")
    client.close()
    return checks.finish()


def check_kserve(models):
    import asyncio
    import numpy as np
    from kserve import InferenceGRPCClient, InferInput, InferRequest

    checks = Checks("kserve InferenceGRPCClient")

    def outputs(response):
        return {output.name: output.as_numpy() for output in response.outputs}

    async def run():
        async with InferenceGRPCClient(os.environ["TESTBED_GRPC_ADDRESS"], retries=0) as client:
            checks.expect(await client.is_server_live(), "server is not live")
            checks.expect(await client.is_server_ready(), "server is not ready")
            for model in models:
                checks.expect(await client.is_model_ready(model, headers=HEADERS), f"{model} is not ready")
                card, inputs, columns, answers = sample(model)
                for form in ("typed", "numpy"):
                    tensors = []
                    for name, datatype in inputs:
                        values = columns[name]
                        if form == "typed":
                            tensors.append(InferInput(name, [ROWS], datatype, data=list(values)))
                        else:
                            tensor = InferInput(name, [ROWS], datatype)
                            tensor.set_data_from_numpy(np.array(values, dtype=np.float64) if datatype == "FP64"
                                                       else np.array([value.encode() for value in values], dtype=np.object_), binary_data=True)
                            tensors.append(tensor)
                    response = await client.infer(InferRequest(model_name=model, infer_inputs=tensors, request_id=f"kserve-{form}"), headers=HEADERS)
                    got = outputs(response)
                    labels = [text(value) for value in got["predict"]] if card["task"] == "classification" else None
                    compare(checks, model, card, answers, labels, got.get("predict_proba"), got.get("predict"),
                            got.get("predict_interval"), f"kserve {form} inputs")

    asyncio.run(run())
    return checks.finish()


def main():
    missing = [name for name in ("TESTBED_URL", "TESTBED_GRPC_ADDRESS", "TESTBED_KEY", "TESTBED_MODELS") if not os.environ.get(name)]
    if missing:
        print(f"error: set {', '.join(missing)} (see the docstring)", file=sys.stderr)
        return 2
    # Entries may carry a CSV after "=" (check_http_clients.py reads it); rows here come from the card.
    models = [entry.split("=", 1)[0].strip() for entry in os.environ["TESTBED_MODELS"].split(",") if entry.strip()]
    if len(sys.argv) > 1:
        return {"triton": check_triton, "kserve": check_kserve}[sys.argv[1]](models)
    # One interpreter per client (see the docstring).
    statuses = [subprocess.call([sys.executable, __file__, client]) for client in ("triton", "kserve")]
    return 0 if all(status == 0 for status in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())
