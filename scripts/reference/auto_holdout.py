#!/usr/bin/env python3
"""`auto` judged on rows it never saw: each dataset is split once into 80% training and 20% test
rows (stratified for classification, seed 0), `testbed train --algorithm auto --time-budget B`
trains on the first, `testbed predict` scores the second. The wall time of `train` is recorded
against the budget. Use it to compare two builds of the testbed on the same splits:

    .venv-reference/bin/python scripts/reference/auto_holdout.py --testbed .build/release/testbed --budget 30 --only Servo Glass
"""
import argparse
import json
import pathlib
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, root_mean_squared_error
from sklearn.model_selection import train_test_split

from compare_peers import DATASETS
from make_fixtures import DATA


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--testbed", required=True)
    parser.add_argument("--budget", type=float, default=30)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--label", default="")
    arguments = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="auto-holdout-"))
    for name, target, task, _, exclude in DATASETS:
        if arguments.only and name not in arguments.only:
            continue
        frame = pd.read_csv(DATA / f"{name}.csv")
        frame = frame[frame[target].notna()].drop(columns=list(exclude), errors="ignore")
        stratify = frame[target] if task == "classification" else None
        train, test = train_test_split(frame, test_size=0.2, random_state=0, stratify=stratify)
        train.to_csv(work / f"{name}-train.csv", index=False)
        test.drop(columns=[target]).to_csv(work / f"{name}-test.csv", index=False)
        model, predictions = work / f"{name}.json", work / f"{name}-predictions.csv"
        started = time.monotonic()
        subprocess.run([arguments.testbed, "train", "--data", str(work / f"{name}-train.csv"), "--target", target,
                        "--algorithm", "auto", "--time-budget", str(arguments.budget), "--out", str(model)],
                       check=True, capture_output=True)
        seconds = time.monotonic() - started
        subprocess.run([arguments.testbed, "predict", "--data", str(work / f"{name}-test.csv"), "--model", str(model),
                        "--out", str(predictions)], check=True, capture_output=True)
        predicted = pd.read_csv(predictions)["prediction"]
        saved = json.loads(model.read_text())
        card = saved.get("training", {}).get("evaluation", {}).get("metrics", {})
        if task == "regression":
            metric, value = "rmse", root_mean_squared_error(test[target].to_numpy(float), predicted.to_numpy(float))
        else:
            metric, value = "accuracy", accuracy_score(test[target].astype(str).to_numpy(), predicted.astype(str).to_numpy())
        print(json.dumps({"label": arguments.label, "dataset": name, "metric": metric, "test": round(float(value), 4),
                          "card": round(float(card.get(metric, np.nan)), 4), "algorithm": saved.get("algorithm"),
                          "train_seconds": round(seconds, 1), "budget": arguments.budget}), flush=True)


if __name__ == "__main__":
    main()
