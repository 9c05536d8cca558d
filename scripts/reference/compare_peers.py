#!/usr/bin/env python3
"""Compares the testbed's models with scikit-learn and LightGBM on the same folds of every dataset.

    scripts/reference/setup.sh
    swift build -c release
    .venv-reference/bin/python scripts/reference/compare_peers.py --testbed .build/release/testbed

For each dataset, `testbed folds` gives the fold of every row (the folds `testbed evaluate` uses
with the same --folds and --seed); the peers are cross-validated on exactly those folds with their
default settings, and `testbed evaluate --json` is run for each of our algorithms and for `auto`.
Writes:
  docs/quality-comparison.md                   the comparison table (generated; do not edit)
  bench/quality/comparison.json                every figure, per model and dataset
  Tests/InferenceCoreTests/Fixtures/peers.json the peer figures the Swift tests compare against
"""
import argparse
import io
import json
import pathlib
import platform
import subprocess
import time
import warnings

import lightgbm
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, log_loss, root_mean_squared_error
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from make_fixtures import DATA, ROOT, load, preprocessor

# name, target, task, folds, excluded columns (as in ../shared/datasets/README.md)
DATASETS = [
    ("Servo", "Class", "regression", 10, ()),
    ("biomass", "HHV", "regression", 10, ("sample", "dataset")),
    ("Ozone", "V4", "regression", 10, ()),
    ("Satellite", "classes", "classification", 5, ()),
    ("Glass", "Type", "classification", 10, ()),
    ("Vehicle", "Class", "classification", 10, ()),
    ("Ionosphere", "Class", "classification", 10, ()),
    ("PimaIndiansDiabetes2", "diabetes", "classification", 10, ()),
    ("mlc_churn", "churn", "classification", 10, ()),
    ("oils", "class", "classification", 10, ()),
]
OURS = ["default", "knn", "gbdt", "random_forest", "mlp", "auto"]


def tree_inputs(numeric, categorical):
    """Trees see numbers as they are (missing values included) and categories one-hot."""
    return ColumnTransformer([
        ("numeric", "passthrough", numeric),
        ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
    ])


def peers(task, numeric, categorical):
    scaled = lambda model: Pipeline([("prepare", preprocessor(numeric, categorical)), ("model", model)])
    raw = lambda model: Pipeline([("prepare", tree_inputs(numeric, categorical)), ("model", model)])
    if task == "regression":
        return {
            "sklearn Ridge": scaled(Ridge()),
            "sklearn KNeighbors": scaled(KNeighborsRegressor()),
            "sklearn RandomForest": raw(RandomForestRegressor(random_state=0)),
            "sklearn HistGradientBoosting": raw(HistGradientBoostingRegressor(random_state=0)),
            "sklearn MLP": scaled(MLPRegressor(random_state=0)),
            "LightGBM": raw(lightgbm.LGBMRegressor(random_state=0, n_jobs=1, verbose=-1)),
        }
    return {
        "sklearn LogisticRegression": scaled(LogisticRegression(max_iter=10_000)),
        "sklearn KNeighbors": scaled(KNeighborsClassifier()),
        "sklearn RandomForest": raw(RandomForestClassifier(random_state=0)),
        "sklearn HistGradientBoosting": raw(HistGradientBoostingClassifier(random_state=0)),
        "sklearn MLP": scaled(MLPClassifier(random_state=0)),
        "LightGBM": raw(lightgbm.LGBMClassifier(random_state=0, n_jobs=1, verbose=-1)),
    }


def summary(per_fold):
    return {name: {"mean": float(np.mean(values)), "std": float(np.std(values))} for name, values in per_fold.items()}


def run_peers(name, target, task, fold_of_row, exclude):
    frame, features, numeric, categorical = load(name, target, exclude)
    folds = fold_of_row
    results = {}
    for label, model in peers(task, numeric, categorical).items():
        per_fold = {"rmse": []} if task == "regression" else {"accuracy": [], "log_loss": []}
        began = time.perf_counter()
        for fold in sorted(set(folds)):
            train, test = folds != fold, folds == fold
            y = frame[target]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(frame.loc[train, features], y[train])
                if task == "regression":
                    per_fold["rmse"].append(root_mean_squared_error(y[test], model.predict(frame.loc[test, features])))
                else:
                    probabilities = model.predict_proba(frame.loc[test, features])
                    classes = model.classes_
                    predicted = classes[np.argmax(probabilities, axis=1)]
                    per_fold["accuracy"].append(accuracy_score(y[test], predicted))
                    per_fold["log_loss"].append(log_loss(y[test], np.clip(probabilities, 1e-15, 1), labels=classes))
        results[label] = {"metrics": summary(per_fold), "seconds": time.perf_counter() - began}
        print(f"  {label}: {results[label]['metrics']}", flush=True)
    return results


def run_ours(testbed, name, target, folds, exclude, time_budget):
    results = {}
    for algorithm in OURS:
        command = [testbed, "evaluate", "--data", str(DATA / f"{name}.csv"), "--target", target,
                   "--folds", str(folds), "--seed", "0", "--json"]
        if algorithm != "default":
            command += ["--algorithm", algorithm]
        if algorithm == "auto":
            command += ["--time-budget", str(time_budget)]
        for column in exclude:
            command += ["--exclude", column]
        began = time.perf_counter()
        report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        metrics = {key: {"mean": report["metrics"][key], "std": report["metrics_std"][key]}
                   for key in ("rmse", "accuracy", "log_loss") if key in report["metrics"]}
        entry = {"algorithm": report["algorithm"], "parameters": report["parameters"], "metrics": metrics,
                 "seconds": time.perf_counter() - began}
        results[f"testbed {algorithm}"] = entry
        print(f"  testbed {algorithm} ({report['algorithm']}): {metrics}", flush=True)
    return results


def fold_assignment(testbed, name, target, folds, task):
    output = subprocess.run([testbed, "folds", "--data", str(DATA / f"{name}.csv"), "--target", target, "--task", task,
                             "--folds", str(folds), "--seed", "0"], check=True, capture_output=True, text=True).stdout
    table = pd.read_csv(io.StringIO(output))
    return table["fold"].dropna().astype(int).to_numpy()


def better(metric, a, b):
    return a < b if metric == "rmse" else a > b


def markdown(comparison):
    lines = [
        "# Quality: the testbed against scikit-learn and LightGBM",
        "",
        "Generated by `scripts/reference/compare_peers.py` (do not edit by hand); every model is",
        "cross-validated on the same folds (`testbed folds`, seed 0), peers with their default settings.",
        f"scikit-learn {sklearn.__version__}, LightGBM {lightgbm.__version__}, Python {platform.python_version()}.",
        "Figures are mean ± standard deviation over the folds: RMSE for regression (lower is better),",
        "accuracy for classification (higher is better). `auto` ranks its candidates on the same metric.",
    ]
    def table(title, key, columns):
        rows = ["", f"## {title}", "", "| dataset | metric | " + " | ".join(columns) + " |", "|---" * (len(columns) + 2) + "|"]
        for entry in comparison:
            metric = entry["metric"]
            cells = []
            for label, result in entry[key].items():
                figure = result["metrics"][metric]
                winner = f" ({result['algorithm']})" if label == "testbed auto" else ""
                cells.append(f"{figure['mean']:.4f} ± {figure['std']:.4f}{winner}")
            rows.append(f"| {entry['dataset']} | {metric} | " + " | ".join(cells) + " |")
        return rows

    lines += table("Peers", "peers", ["Ridge / LogisticRegression", "KNeighbors", "RandomForest", "HistGradientBoosting", "MLP", "LightGBM"])
    lines += table("Testbed", "ours", ["default (ridge / logistic)", "knn", "gbdt", "random_forest", "mlp", "auto (winner)"])
    lines += ["", "## Verdicts", "",
              "`gbdt` against HistGradientBoosting: within the fold-to-fold noise when the difference of the means is at",
              "most HistGradientBoosting's standard deviation over the folds. `auto` against the best default peer: better,",
              "or matching within that peer's standard deviation, or worse.", "",
              "| dataset | metric | HistGradientBoosting | testbed gbdt | gbdt verdict | best peer | testbed auto | auto verdict |",
              "|---|---|---|---|---|---|---|---|"]
    for entry in comparison:
        lines.append("| " + " | ".join([entry["dataset"], entry["metric"], entry["hgb"], entry["gbdt"], entry["gbdt_verdict"],
                                        entry["best_peer"], entry["auto"], entry["auto_verdict"]]) + " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--testbed", default=str(ROOT / ".build" / "release" / "testbed"))
    parser.add_argument("--time-budget", type=float, default=300)
    parser.add_argument("--only", nargs="*", help="dataset names to run (default: all)")
    arguments = parser.parse_args()
    comparison = []
    for name, target, task, folds, exclude in DATASETS:
        if arguments.only and name not in arguments.only:
            continue
        print(f"{name}:", flush=True)
        fold_of_row = fold_assignment(arguments.testbed, name, target, folds, task)
        peer_results = run_peers(name, target, task, fold_of_row, exclude)
        our_results = run_ours(arguments.testbed, name, target, folds, exclude, arguments.time_budget)
        metric = "rmse" if task == "regression" else "accuracy"
        figure = lambda result: result["metrics"][metric]
        text = lambda result: f"{figure(result)['mean']:.4f} ± {figure(result)['std']:.4f}"
        hgb, gbdt, auto = peer_results["sklearn HistGradientBoosting"], our_results["testbed gbdt"], our_results["testbed auto"]
        best_label = min(peer_results, key=lambda label: figure(peer_results[label])["mean"] * (1 if metric == "rmse" else -1))
        best = peer_results[best_label]
        gap = abs(figure(gbdt)["mean"] - figure(hgb)["mean"])
        auto_better = better(metric, figure(auto)["mean"], figure(best)["mean"])
        auto_close = abs(figure(auto)["mean"] - figure(best)["mean"]) <= figure(best)["std"]
        comparison.append({
            "dataset": name, "target": target, "task": task, "folds": folds, "exclude": list(exclude), "metric": metric,
            "peers": peer_results, "ours": our_results,
            "hgb": text(hgb), "gbdt": text(gbdt),
            "gbdt_verdict": "within noise" if gap <= figure(hgb)["std"] else ("better" if better(metric, figure(gbdt)["mean"], figure(hgb)["mean"]) else "worse"),
            "best_peer": f"{text(best)} ({best_label})",
            "auto": f"{text(auto)} ({auto['algorithm']})",
            "auto_verdict": "better" if auto_better else ("matches (within noise)" if auto_close else "worse"),
        })
    versions = {"scikit_learn": sklearn.__version__, "lightgbm": lightgbm.__version__, "numpy": np.__version__}
    out = ROOT / "bench" / "quality"
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.json").write_text(json.dumps({"versions": versions, "datasets": comparison}, indent=1) + "\n")
    (ROOT / "docs" / "quality-comparison.md").write_text(markdown(comparison))
    fixture = [{"dataset": f"{e['dataset']}.csv", "target": e["target"], "task": e["task"], "folds": e["folds"],
                "exclude": e["exclude"], "metric": e["metric"],
                "peers": {label: result["metrics"][e["metric"]] for label, result in e["peers"].items()}} for e in comparison]
    document = {"generator": "scripts/reference/compare_peers.py", **versions, "cases": fixture}
    (ROOT / "Tests" / "InferenceCoreTests" / "Fixtures" / "peers.json").write_text(json.dumps(document, indent=1) + "\n")
    print("wrote docs/quality-comparison.md, bench/quality/comparison.json, Tests/InferenceCoreTests/Fixtures/peers.json")


if __name__ == "__main__":
    main()
