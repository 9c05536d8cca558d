#!/usr/bin/env python3
"""A small FastAPI service around the same scikit-learn models MLServer serves for the benchmark
(peer_models.py: glass-type, a random forest; oil-type, StandardScaler + LogisticRegression), on
the Open Inference Protocol V2 routes the benchmark calls, for `benchmark --suite server`:

    python fastapi_peer.py PORT

fits both models, then serves on 127.0.0.1:PORT with uvicorn: one process, one worker, uvloop and
httptools, log level warning, no access log. Ready when GET /v2/health/ready answers 200.

  POST /v2/models/{name}/infer   one FP64/FP32/INT* input of shape [rows, columns] (data flat or
                                 nested); outputs "predict" (the default, the labels: INT64 for
                                 integer labels, BYTES for strings, as MLServer's scikit-learn
                                 runtime answers) and/or "predict_proba"
  GET  /v2/models/{name}/ready   200, or 404 for an unknown model
  GET  /v2/health/ready, /v2/health/live   200

Requests are parsed with orjson, not a pydantic model: the same checks by hand (one input, its
shape against the data and the model's columns, the outputs asked for) at a fraction of the cost of
validating every element of "data" through pydantic. Prediction runs on the event loop (as
MLServer's does with parallel_workers 0): on one process a thread pool adds a hop and nothing else.
"""
import sys
import uuid

import numpy as np
import orjson
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

from peer_models import fit_all

NUMERIC_DATATYPES = {"FP64": np.float64, "FP32": np.float32, "FP16": np.float16, "INT64": np.int64, "INT32": np.int32,
                     "INT16": np.int16, "INT8": np.int8, "UINT64": np.uint64, "UINT32": np.uint32, "UINT16": np.uint16,
                     "UINT8": np.uint8, "BOOL": np.bool_}

app = FastAPI(title="scikit-learn V2 peer", docs_url=None, redoc_url=None, openapi_url=None)
models = {}


def v2_datatype(array):
    """The V2 datatype of a NumPy array, as MLServer's NumPy codec names it."""
    kind = array.dtype.kind
    if kind in "OUS":
        return "BYTES"
    if kind == "b":
        return "BOOL"
    prefix = {"i": "INT", "u": "UINT", "f": "FP"}[kind]
    return f"{prefix}{array.dtype.itemsize * 8}"


def json_response(content, status=200):
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def error(message, status=400):
    return json_response({"error": message}, status)


class BadRequest(ValueError):
    pass


def read_input(request, columns):
    """The request's single input as a float64 [rows, columns] array."""
    inputs = request.get("inputs") if isinstance(request, dict) else None
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise BadRequest("expected one input")
    tensor = inputs[0]
    dtype = NUMERIC_DATATYPES.get(tensor.get("datatype"))
    if dtype is None:
        raise BadRequest(f"unsupported datatype {tensor.get('datatype')!r}")
    shape = tensor.get("shape")
    if not isinstance(shape, list) or len(shape) != 2 or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise BadRequest("expected a shape [rows, columns]")
    if shape[1] != columns:
        raise BadRequest(f"the model takes {columns} columns, not {shape[1]}")
    try:
        data = np.asarray(tensor.get("data"), dtype=dtype)
    except (TypeError, ValueError):
        raise BadRequest("data is not a list of numbers") from None
    if data.size != shape[0] * shape[1]:
        raise BadRequest(f"{data.size} values for a shape {shape}")
    return data.reshape(shape).astype(np.float64, copy=False)


def requested_outputs(request):
    outputs = request.get("outputs")
    if outputs is None:
        return ["predict"]
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, dict) for o in outputs):
        raise BadRequest("outputs must be a list of {\"name\": ...}")
    names = [o.get("name") for o in outputs]
    for name in names:
        if name not in ("predict", "predict_proba"):
            raise BadRequest(f"unknown output {name!r} (predict, predict_proba)")
    return names


@app.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request):
    model = models.get(name)
    if model is None:
        return error(f"Model {name} not found", 404)
    try:
        body = orjson.loads(await request.body())
        rows = read_input(body, model.n_features_in_)
        names = requested_outputs(body)
    except (orjson.JSONDecodeError, BadRequest) as problem:
        return error(str(problem))
    outputs = []
    for output in names:
        values = model.predict(rows) if output == "predict" else model.predict_proba(rows)
        if values.ndim == 1:
            values = values.reshape(-1, 1)
        outputs.append({"name": output, "shape": list(values.shape), "datatype": v2_datatype(values),
                        "parameters": {"content_type": "np"}, "data": values.ravel().tolist()})
    request_id = body.get("id")
    return json_response({"model_name": name, "model_version": "v1", "id": request_id if isinstance(request_id, str) else str(uuid.uuid4()),
                          "parameters": {}, "outputs": outputs})


@app.get("/v2/models/{name}/ready")
async def model_ready(name: str):
    return Response(status_code=200) if name in models else error(f"Model {name} not found", 404)


@app.get("/v2/health/ready")
@app.get("/v2/health/live")
async def health():
    return Response(status_code=200)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python fastapi_peer.py PORT")
    port = int(sys.argv[1])
    models.update(fit_all())  # before listening: the port answers once the models are there
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, loop="uvloop", http="httptools",
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
