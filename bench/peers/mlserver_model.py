#!/usr/bin/env python3
"""Prepares MLServer (with its scikit-learn runtime) to serve the equivalent of the testbed's
glass-type demonstration model, for `benchmark --suite server`:

    python mlserver_model.py DIRECTORY HTTP_PORT GRPC_PORT

writes DIRECTORY/glass-type/model.joblib (a scikit-learn random forest of 100 trees fitted on
datasets/Glass.csv, the testbed's demonstration settings) with its model-settings.json, and
DIRECTORY/settings.json (the ports; everything else MLServer's defaults). Then
`mlserver start DIRECTORY` serves it under /v2/models/glass-type/infer, the same V2 requests.
"""
import json
import pathlib
import sys

import joblib
import pandas
from sklearn.ensemble import RandomForestClassifier

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    directory, http_port, grpc_port = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    table = pandas.read_csv(ROOT / "datasets" / "Glass.csv")
    x, y = table.drop(columns=["Type"]).to_numpy(dtype="float64"), table["Type"].to_numpy()
    model = RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=1).fit(x, y)
    (directory / "glass-type").mkdir(parents=True, exist_ok=True)
    joblib.dump(model, directory / "glass-type" / "model.joblib")
    (directory / "glass-type" / "model-settings.json").write_text(json.dumps({
        "name": "glass-type", "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "v1"},
    }))
    (directory / "settings.json").write_text(json.dumps({
        "http_port": http_port, "grpc_port": grpc_port, "metrics_endpoint": None, "debug": False,
    }))


if __name__ == "__main__":
    main()
