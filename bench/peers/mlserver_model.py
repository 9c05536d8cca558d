#!/usr/bin/env python3
"""Prepares MLServer (with its scikit-learn runtime) to serve the equivalents of the testbed's
glass-type and oil-type demonstration models, for `benchmark --suite server`:

    python mlserver_model.py DIRECTORY HTTP_PORT GRPC_PORT [--parallel-workers N]

writes, for each model of peer_models.py (glass-type: a random forest of 100 trees on
datasets/Glass.csv; oil-type: StandardScaler + LogisticRegression on datasets/oils.csv),
DIRECTORY/NAME/model.joblib with its model-settings.json, and DIRECTORY/settings.json: the ports,
and `parallel_workers` when --parallel-workers is given (without it, MLServer's default: 1 in
MLServer 1.7.1, DEFAULT_PARALLEL_WORKERS in mlserver/settings.py, i.e. one inference worker process
beside the HTTP process; 0 runs inference in the HTTP process itself). Everything else is
MLServer's defaults. Then `mlserver start DIRECTORY` serves them under /v2/models/NAME/infer.
"""
import argparse
import json
import pathlib

import joblib

from peer_models import MODELS, fit


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=pathlib.Path)
    parser.add_argument("http_port", type=int)
    parser.add_argument("grpc_port", type=int)
    parser.add_argument("--parallel-workers", type=int, default=None,
                        help="MLServer's parallel_workers (absent: MLServer's default, 1)")
    arguments = parser.parse_args()
    for name in MODELS:
        model_directory = arguments.directory / name
        model_directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(fit(name), model_directory / "model.joblib")
        (model_directory / "model-settings.json").write_text(json.dumps({
            "name": name, "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": "./model.joblib", "version": "v1"},
        }))
    settings = {"http_port": arguments.http_port, "grpc_port": arguments.grpc_port, "metrics_endpoint": None, "debug": False}
    if arguments.parallel_workers is not None:
        settings["parallel_workers"] = arguments.parallel_workers
    (arguments.directory / "settings.json").write_text(json.dumps(settings))


if __name__ == "__main__":
    main()
