"""The HTTP clients people already have, against a running `testbed serve`.

For each model it scores the same rows through the pilot API (`/api/v1/models/{name}/predict`, the
reference) and through:
  - tritonclient.http with its defaults (binary inputs and outputs) and with binary_data=False,
  - KServe's Python SDK REST client (InferenceRESTClient, protocol v2), binary and JSON inputs,
  - MLflow's scoring protocol in the request shapes of MLflow's documentation, built from a pandas
    DataFrame as MLflow's own clients build them, and as CSV,
and requires the same numbers bit for bit and the same labels. It also exercises metadata, health,
readiness and the repository extension through tritonclient. Exits non-zero on any mismatch.

Environment (set by scripts/clients/run.sh): TESTBED_URL (http://host:port), TESTBED_KEY (a tenant's
key), TESTBED_MODELS (name=csv,name=csv,…: each model with a CSV file of rows it can score).
"""
import asyncio
import json
import os
import sys

import numpy as np
import pandas as pd
import requests
import tritonclient.http as triton
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig

URL = os.environ["TESTBED_URL"]
KEY = os.environ["TESTBED_KEY"]
AUTH = {"Authorization": f"Bearer {KEY}"}


def auth():
    """A fresh copy: tritonclient adds Inference-Header-Content-Length to the dict it is given."""
    return dict(AUTH)
MODELS = [entry.split("=", 1) for entry in os.environ["TESTBED_MODELS"].split(",")]
ROWS = 64

failures = []


def check(condition, message):
    print(("ok    " if condition else "FAIL  ") + message)
    if not condition:
        failures.append(message)


def rows_for(metadata, csv_path):
    """The first complete rows of the model's inputs, typed as the model's metadata says."""
    inputs = [(tensor["name"], tensor["datatype"]) for tensor in metadata["inputs"]]
    frame = pd.read_csv(csv_path, dtype={name: str for name, kind in inputs if kind == "BYTES"}, keep_default_na=False)
    frame = frame[[name for name, _ in inputs]]
    complete = frame[~frame.isin(["", "NA"]).any(axis=1)].head(ROWS).reset_index(drop=True)
    for name, kind in inputs:
        if kind == "FP64":
            complete[name] = complete[name].astype(np.float64)
    return inputs, complete


def records(frame):
    """Rows as dicts of Python values: floats keep every bit (pandas' to_json rounds to 15 digits)."""
    return [{name: value.item() if hasattr(value, "item") else value for name, value in row.items()} for row in frame.to_dict(orient="records")]


def reference(model, frame):
    """What the pilot API answers: predictions (numbers or labels) and probabilities."""
    reply = requests.post(f"{URL}/api/v1/models/{model}/predict", headers=auth(),
                          json={"rows": records(frame)})
    reply.raise_for_status()
    body = reply.json()
    rows = body["predictions"]
    labels = [row["prediction"] for row in rows]
    classes = body.get("classes")
    probabilities = np.array([[row["probabilities"][c] for c in classes] for row in rows]) if classes else None
    return labels, probabilities, classes


def tensors(inputs, frame, make):
    """One [N, 1] tensor per column, FP64 or BYTES, built by the client's own input class."""
    made = []
    for name, kind in inputs:
        values = frame[name].to_numpy(dtype=np.float64 if kind == "FP64" else np.object_).reshape(-1, 1)
        made.append(make(name, values, kind))
    return made


def same_labels(received, labels, classes):
    received = [value.decode() if isinstance(value, bytes) else value for value in np.asarray(received).reshape(-1).tolist()]
    if classes is None:
        return np.array_equal(np.array(received, dtype=np.float64), np.array(labels, dtype=np.float64))
    return [str(value) for value in received] == [str(label) for label in labels]


def check_triton(model, inputs, frame, labels, probabilities, classes):
    client = triton.InferenceServerClient(URL.removeprefix("http://"))
    check(client.is_server_live() and client.is_server_ready(), f"{model}: tritonclient.http: server live and ready")
    check(client.is_model_ready(model, headers=auth()), f"{model}: tritonclient.http: model ready")
    metadata = client.get_model_metadata(model, headers=auth())
    check([t["name"] for t in metadata["inputs"]] == [name for name, _ in inputs], f"{model}: tritonclient.http: metadata lists the inputs")
    for binary in (True, False):
        def make(name, values, kind):
            tensor = triton.InferInput(name, list(values.shape), kind)
            tensor.set_data_from_numpy(values, binary_data=binary)
            return tensor
        outputs = None if binary else [triton.InferRequestedOutput("predict", binary_data=False)] + (
            [triton.InferRequestedOutput("predict_proba", binary_data=False)] if classes else [])
        result = client.infer(model, tensors(inputs, frame, make), outputs=outputs, headers=auth())
        label = "binary" if binary else "JSON"
        check(same_labels(result.as_numpy("predict"), labels, classes), f"{model}: tritonclient.http ({label}): predict equals /predict")
        if classes:
            check(np.array_equal(result.as_numpy("predict_proba"), probabilities),
                  f"{model}: tritonclient.http ({label}): predict_proba equals /predict's probabilities bit for bit")
    index = client.get_model_repository_index(headers=auth())
    check(any(entry["name"] == model and entry["state"] == "READY" for entry in index), f"{model}: tritonclient.http: repository index lists it READY")
    client.unload_model(model, headers=auth())
    check(not client.is_model_ready(model, headers=auth()), f"{model}: tritonclient.http: unloaded, not ready")
    client.load_model(model, headers=auth())
    check(client.is_model_ready(model, headers=auth()), f"{model}: tritonclient.http: loaded again, ready")
    client.close()


async def check_kserve(model, inputs, frame, labels, probabilities, classes):
    async with InferenceRESTClient(RESTConfig(protocol="v2", retries=0)) as client:
        check(await client.is_server_ready(URL), f"{model}: kserve REST: server ready")
        check(await client.is_model_ready(URL, model, headers=auth()), f"{model}: kserve REST: model ready")
        for binary in (True, False):
            def make(name, values, kind):
                tensor = InferInput(name, list(values.shape), kind)
                tensor.set_data_from_numpy(values, binary_data=binary)
                return tensor
            request = InferRequest(model_name=model, infer_inputs=tensors(inputs, frame, make))
            response = await client.infer(URL, request, model_name=model, headers=auth())
            outputs = {output.name: output.as_numpy() for output in response.outputs}
            label = "binary" if binary else "JSON"
            check(same_labels(outputs["predict"], labels, classes), f"{model}: kserve REST ({label}): predict equals /predict")
            if classes:
                check(np.array_equal(outputs["predict_proba"], probabilities), f"{model}: kserve REST ({label}): predict_proba equals /predict bit for bit")


def check_mlflow(model, frame, labels, classes):
    # MLflow's documented shapes, as pandas' to_dict writes them (to_json would round the floats).
    split = frame.to_dict(orient="split", index=False)
    documented = {
        "dataframe_split": {"dataframe_split": {"columns": split["columns"], "data": [[v.item() if hasattr(v, "item") else v for v in row] for row in split["data"]]}},
        "dataframe_records": {"dataframe_records": records(frame)},
        "instances": {"instances": records(frame)},
        "inputs": {"inputs": {name: frame[name].tolist() for name in frame.columns}},
    }
    for shape, body in documented.items():
        for path, headers in ((f"/api/v1/models/{model}/invocations", AUTH), ("/invocations", {**AUTH, "X-Model-Name": model})):
            reply = requests.post(URL + path, headers=headers, json=body)
            ok = reply.status_code == 200 and same_labels(reply.json()["predictions"], labels, classes)
            check(ok, f"{model}: MLflow {shape} at {path}: predictions equal /predict" + ("" if ok else f" ({reply.status_code} {reply.text[:200]})"))
    reply = requests.post(f"{URL}/invocations", headers={**AUTH, "X-Model-Name": model, "Content-Type": "text/csv"},
                          data=frame.to_csv(index=False, float_format="%.17g"))
    check(reply.status_code == 200 and same_labels(reply.json()["predictions"], labels, classes), f"{model}: MLflow text/csv: predictions equal /predict")
    reply = requests.post(f"{URL}/invocations", headers={**AUTH, "X-Model-Name": model}, json={"columns": list(frame.columns)})
    check(reply.status_code == 400 and "exactly one of" in reply.json().get("error", ""), f"{model}: MLflow: a body in none of the shapes is a clear 400")


def main():
    for model, csv_path in MODELS:
        metadata = requests.get(f"{URL}/v2/models/{model}", headers=auth()).json()
        inputs, frame = rows_for(metadata, csv_path)
        labels, probabilities, classes = reference(model, frame)
        print(f"{model}: {len(frame)} rows, {len(inputs)} inputs, {'classes ' + ','.join(classes) if classes else 'regression'}")
        check_triton(model, inputs, frame, labels, probabilities, classes)
        asyncio.run(check_kserve(model, inputs, frame, labels, probabilities, classes))
        check_mlflow(model, frame, labels, classes)
    print(f"\n{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
