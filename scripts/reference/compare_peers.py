#!/usr/bin/env python3
"""Compares the testbed's models with scikit-learn and LightGBM on the same folds of every dataset.

    scripts/reference/setup.sh
    swift build -c release
    .venv-reference/bin/python scripts/reference/compare_peers.py --testbed .build/release/testbed
    # auto against FLAML only (nested), 15 s per fit, the fixture at 5 s:
    .venv-reference/bin/python scripts/reference/compare_peers.py --only-automl --automl-budget 15 --test-budget 5

For each dataset, `testbed folds` gives the fold of every row (the folds `testbed evaluate` uses
with the same --folds and --seed); the peers are cross-validated on exactly those folds with their
default settings, and `testbed evaluate --json` is run for each of our algorithms and for `auto`.
Writes:
  docs/quality-comparison.md                   the comparison table (generated; do not edit)
  bench/quality/comparison.json                every figure, per model and dataset
  Tests/InferenceCoreTests/Fixtures/peers.json the peer figures the Swift tests compare against

Then `auto` against FLAML and the best default peer, nested (see `run_automl`): on each of
--automl-folds outer folds, `testbed train --algorithm auto --time-budget B` on the training rows and
`testbed predict` on the test rows, FLAML with the same budget on the same rows, and the default peers
cross-validated on the same outer folds. --only-automl runs this part alone (the default-peer tables
of the document are then rewritten from bench/quality/comparison.json as it stands).
Writes:
  bench/quality/automl.json                           every fold's figure, seconds and choice
  Tests/InferenceCoreTests/Fixtures/automl_peers.json FLAML's and the best default peer's figure per
                                                      outer fold of the small datasets at --test-budget
"""
import argparse
import io
import json
import os
import pathlib
import platform
import re
import subprocess
import tempfile
import time
import warnings

import flaml
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

from flaml import AutoML
from make_fixtures import DATA, ROOT, load, preprocessor, typed_columns

try:
    import xgboost
except ImportError:  # FLAML then leaves XGBoost out of its estimator list
    xgboost = None

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


# ---------------------------------------------------------------------------------------------------
# auto against FLAML and the best default peer: nested, same budget, same outer folds.

# Datasets compared only here: a time-ordered log. The default-peer tables (and peers.json, whose
# Swift test cross-validates on random folds) keep the ten above.
AUTOML_EXTRA = [("Chicago", "ridership", "regression", 5, ())]
# The column that orders a log's rows; the Python side sees the calendar features our TimeEncoder
# derives from it (day of week 0 = Monday, month, day of year), not the date text.
TIME_COLUMNS = {"Chicago": "date"}
# The small datasets whose per-fold figures at --test-budget go into automl_peers.json.
TEST_DATASETS = ["Servo", "Glass", "oils", "Ionosphere"]


def outer_folds(testbed, name, target, task, folds):
    """Every row's outer fold as `testbed folds` gives it (NaN: never a test row), in file order, and
    whether the folds are time-ordered (each fold then trains only on the rows before its block)."""
    completed = subprocess.run([testbed, "folds", "--data", str(DATA / f"{name}.csv"), "--target", target, "--task", task,
                                "--folds", str(folds), "--seed", "0"], check=True, capture_output=True, text=True)
    table = pd.read_csv(io.StringIO(completed.stdout))
    assert (table["row"].to_numpy() == np.arange(1, len(table) + 1)).all(), "testbed folds numbers the rows 1…n"
    return table["fold"].to_numpy(dtype=float), "time-ordered" in completed.stderr, completed.stderr.strip()


def python_frame(name, target, exclude):
    """The table as the Python side sees it, one row per file row (no row dropped, so positions match
    `testbed folds`): yes/no columns as 0/1, other text as categories, a log's date as calendar features."""
    frame = pd.read_csv(DATA / f"{name}.csv", keep_default_na=True)
    time_column = TIME_COLUMNS.get(name)
    if time_column:
        when = pd.to_datetime(frame[time_column])
        assert when.is_monotonic_increasing, f"{name}: rows must be in time order"
        frame[f"{time_column} (day_of_week)"] = when.dt.day_of_week
        frame[f"{time_column} (month)"] = when.dt.month
        frame[f"{time_column} (day_of_year)"] = when.dt.day_of_year
        frame = frame.drop(columns=[time_column])
    return typed_columns(frame, target, exclude)


def outer_splits(fold_of_row, time_ordered, has_target):
    """(fold, training positions, test positions) per outer fold. Random folds train on every other
    fold; time-ordered folds on the rows before the test block (the first block included), as
    `testbed evaluate` does."""
    positions = np.arange(len(fold_of_row))
    splits = []
    for fold in sorted(set(fold_of_row[~np.isnan(fold_of_row)])):
        test = np.flatnonzero(fold_of_row == fold)
        if time_ordered:
            train = np.flatnonzero(has_target & (positions < test.min()))
        else:
            train = np.flatnonzero(has_target & ~np.isnan(fold_of_row) & (fold_of_row != fold))
        splits.append((int(fold), train, test))
    return splits


def score(metric, actual, predicted):
    if metric == "rmse":
        return float(root_mean_squared_error(np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)))
    return float(np.mean(np.asarray(actual) == np.asarray(predicted)))


def ours_on_fold(testbed, raw, target, task, metric, exclude, train, test, budget, workdir):
    """`testbed train --algorithm auto` on the training rows, `testbed predict` on the test rows."""
    train_csv, test_csv, model = workdir / "train.csv", workdir / "test.csv", workdir / "model.json"
    raw.iloc[train].to_csv(train_csv, index=False)
    raw.iloc[test].drop(columns=[target]).to_csv(test_csv, index=False)
    command = [testbed, "train", "--data", str(train_csv), "--target", target, "--task", task, "--algorithm", "auto",
               "--time-budget", str(budget), "--seed", "0", "--out", str(model)]
    for column in exclude:
        command += ["--exclude", column]
    began = time.perf_counter()
    trained = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if trained.returncode != 0:  # a refusal is a result too: the fold counts as failed
        error = (trained.stderr.strip().splitlines() or [f"exit status {trained.returncode}"])[-1]
        return {"figure": None, "seconds": seconds, "algorithm": "failed", "error": error}
    algorithm = json.loads(model.read_text())["algorithm"]
    output = subprocess.run([testbed, "predict", "--data", str(test_csv), "--model", str(model)],
                            check=True, capture_output=True, text=True).stdout
    predicted = pd.read_csv(io.StringIO(output), dtype=str, keep_default_na=False)["prediction"]
    actual = raw[target].iloc[test].to_numpy()
    if metric == "rmse":
        actual, predicted = actual.astype(float), predicted.astype(float)
    return {"figure": score(metric, actual, predicted.to_numpy()), "seconds": seconds, "algorithm": algorithm}


def flaml_on_fold(frame, features, target, task, metric, train, test, budget, time_ordered):
    """FLAML with the same budget on the same rows: one core, seed 0, our metric, otherwise its defaults
    (a log's rows are declared time-ordered, as our auto finds them to be)."""
    automl = AutoML()
    settings = {"task": task, "time_budget": budget, "metric": metric, "n_jobs": 1, "seed": 0, "verbose": 0}
    if time_ordered:
        settings["split_type"] = "time"
    x, y = frame[features], frame[target]
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(x.iloc[train], y.iloc[train], **settings)
    seconds = time.perf_counter() - began
    predicted = automl.predict(x.iloc[test])
    return {"figure": score(metric, y.iloc[test].to_numpy(), predicted), "seconds": seconds,
            "algorithm": automl.best_estimator}


def peers_on_folds(frame, features, numeric, categorical, target, task, metric, splits):
    """Every default peer's figure on each outer fold."""
    y = frame[target]
    per_fold = {}
    for label, model in peers(task, numeric, categorical).items():
        per_fold[label] = []
        for _, train, test in splits:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(frame[features].iloc[train], y.iloc[train])
                per_fold[label].append(score(metric, y.iloc[test].to_numpy(), model.predict(frame[features].iloc[test])))
    return per_fold


def spread(values):
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}


def loss(metric, value):
    return value if metric == "rmse" else -value


def run_automl(testbed, name, target, task, exclude, folds, budget, test_budget):
    metric = "rmse" if task == "regression" else "accuracy"
    fold_of_row, time_ordered, note = outer_folds(testbed, name, target, task, folds)
    raw = pd.read_csv(DATA / f"{name}.csv", dtype=str, keep_default_na=False)
    frame, features, numeric, categorical = python_frame(name, target, exclude)
    assert len(raw) == len(frame) == len(fold_of_row)
    splits = outer_splits(fold_of_row, time_ordered, frame[target].notna().to_numpy())
    began = time.perf_counter()
    peer_folds = peers_on_folds(frame, features, numeric, categorical, target, task, metric, splits)
    peer_seconds = time.perf_counter() - began
    best_label = min(peer_folds, key=lambda label: loss(metric, np.mean(peer_folds[label])))
    print(f"  default peers on the {len(splits)} outer folds ({peer_seconds:.0f} s): best {best_label} "
          f"{spread(peer_folds[best_label])}", flush=True)

    def nested(fit_budget):
        rows = []
        with tempfile.TemporaryDirectory(prefix="automl-") as directory:
            for fold, train, test in splits:
                # ours, then FLAML, fold by fold: a change of machine load falls on both alike
                ours = ours_on_fold(testbed, raw, target, task, metric, exclude, train, test, fit_budget, pathlib.Path(directory))
                theirs = flaml_on_fold(frame, features, target, task, metric, train, test, fit_budget, time_ordered)
                rows.append({"fold": fold, "train_rows": int(len(train)), "test_rows": (test + 1).tolist(),
                             "testbed_auto": ours, "flaml": theirs, "best_peer": peer_folds[best_label][len(rows)]})
                shown = "failed: " + ours["error"] if ours["figure"] is None else f"{ours['figure']:.4f}"
                print(f"  budget {fit_budget:g} s, fold {fold}: auto {shown} ({ours['algorithm']}, "
                      f"{ours['seconds']:.1f} s), FLAML {theirs['figure']:.4f} ({theirs['algorithm']}, {theirs['seconds']:.1f} s), "
                      f"{best_label} {rows[-1]['best_peer']:.4f}", flush=True)
        return rows

    def summarize(rows, fit_budget):
        result = {"budget_seconds": fit_budget, "folds": rows}
        for key in ("testbed_auto", "flaml"):
            seconds = [row[key]["seconds"] for row in rows]
            figures = [row[key]["figure"] for row in rows if row[key]["figure"] is not None]
            result[key] = {**(spread(figures) if figures else {"mean": float("nan"), "std": float("nan")}),
                           "failed_folds": [row["fold"] for row in rows if row[key]["figure"] is None],
                           "seconds_mean": float(np.mean(seconds)), "seconds_max": float(np.max(seconds)),
                           "within_budget": bool(np.max(seconds) <= 1.1 * fit_budget),
                           "choices": [row[key]["algorithm"] for row in rows]}
        return result

    entry = {"dataset": name, "target": target, "task": task, "exclude": list(exclude), "metric": metric,
             "outer_folds": len(splits), "seed": 0, "split": "time" if time_ordered else ("stratified random" if task == "classification" else "random"),
             "split_note": note, "time_column": TIME_COLUMNS.get(name),
             "peers": {label: spread(values) for label, values in peer_folds.items()},
             "peer_folds": peer_folds, "best_peer_label": best_label, "best_peer": spread(peer_folds[best_label]),
             "peer_seconds": peer_seconds, "main": summarize(nested(budget), budget)}
    auto, rival_label, rival = automl_verdict_inputs(entry)
    entry["rival"] = rival_label
    entry["verdict"] = verdict(metric, auto, rival)
    if auto["failed_folds"]:
        entry["verdict"] = f"worse (failed on {len(auto['failed_folds'])} of {len(splits)} folds)"
    if test_budget and name in TEST_DATASETS:
        entry["test"] = entry["main"] if test_budget == budget else summarize(nested(test_budget), test_budget)
    return entry


def automl_verdict_inputs(entry):
    """auto's figure and the stronger of FLAML and the best default peer (by mean)."""
    metric, main = entry["metric"], entry["main"]
    flaml_figure, peer_figure = main["flaml"], entry["best_peer"]
    if loss(metric, flaml_figure["mean"]) < loss(metric, peer_figure["mean"]):
        return main["testbed_auto"], "FLAML", flaml_figure
    return main["testbed_auto"], entry["best_peer_label"], peer_figure


def verdict(metric, ours, theirs):
    if loss(metric, ours["mean"]) < loss(metric, theirs["mean"]):
        return "better"
    if abs(ours["mean"] - theirs["mean"]) <= theirs["std"]:
        return "matches (within the fold-to-fold spread)"
    return "worse"


def automl_versions():
    return {"flaml": flaml.__version__, "xgboost": xgboost.__version__ if xgboost else None,
            "lightgbm": lightgbm.__version__, "scikit_learn": sklearn.__version__, "numpy": np.__version__,
            "pandas": pd.__version__, "python": platform.python_version()}


def automl_markdown(document):
    entries, settings = document["datasets"], document["settings"]
    if not entries:
        return []
    versions = document["versions"]
    budget = settings["budget_seconds"]
    lines = [
        "", "## auto against FLAML and the best default peer, same budget, same outer folds", "",
        f"Nested: every dataset is split into {settings['outer_folds']} outer folds by `testbed folds` (seed 0; stratified for",
        "classification; a log with one date column in time order, each fold then trained only on the rows",
        "before its block, the first block never tested). On each outer fold, `testbed train --algorithm auto",
        f"--time-budget {budget:g} --seed 0` runs on the training rows alone (its search, hold-out and final fit",
        "included) and `testbed predict` scores the test rows; then FLAML runs on the same rows with",
        f"`time_budget={budget:g}`, `n_jobs=1`, `seed=0`, the same metric, otherwise its defaults; the two take turns",
        "fold by fold so that a change in the machine's load falls on both. Our `auto` trains on one core,",
        "hence FLAML's `n_jobs=1`. The default peers (the tables above) are cross-validated on the same",
        "outer folds and the best of them by mean is shown. Nothing saw the test rows before scoring them.",
        "",
        f"FLAML {versions['flaml']} (its default estimators: LightGBM, random forest, XGBoost {versions['xgboost']},",
        "extra trees, depth-limited XGBoost, SGD, and L1 logistic regression for classification; CatBoost is",
        f"not installed, so FLAML leaves it out), LightGBM {versions['lightgbm']}, scikit-learn {versions['scikit_learn']},",
        f"Python {versions['python']}; {settings['machine']}; run at commit {versions.get('source_commit')} with the testbed given by --testbed.",
        "Fits under a time budget depend on the machine's speed and load, so their figures move from run to run.",
        "For a log (Chicago), the Python side gets day of week,",
        "month and day of year derived from the `date` column (the calendar features our `auto` derives from it),",
        "not the date text, and FLAML is told `split_type=\"time\"` (our `auto` finds the time order itself).",
        "",
        "Figures are mean ± standard deviation over the outer folds (RMSE, lower is better; accuracy, higher",
        "is better). Seconds are the wall-clock time of each fit (for ours the whole `testbed train` process),",
        f"mean / max over the folds; ours must stay within the budget + 10% ({1.1 * budget:g} s).",
        "",
        "| dataset | metric | testbed auto | FLAML | best default peer | auto s (mean / max) | FLAML s (mean / max) | auto's choice per fold | FLAML's choice per fold |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    text = lambda figure: f"{figure['mean']:.4f} ± {figure['std']:.4f}"
    for entry in entries:
        main = entry["main"]
        ours, theirs = main["testbed_auto"], main["flaml"]
        over = "" if ours["within_budget"] else " **over budget**"
        failed = f" (failed on folds {', '.join(map(str, ours['failed_folds']))}; mean of the others)" if ours["failed_folds"] else ""
        lines.append("| " + " | ".join([
            entry["dataset"], entry["metric"], text(ours) + failed, text(theirs), f"{text(entry['best_peer'])} ({entry['best_peer_label']})",
            f"{ours['seconds_mean']:.1f} / {ours['seconds_max']:.1f}{over}", f"{theirs['seconds_mean']:.1f} / {theirs['seconds_max']:.1f}",
            ", ".join(ours["choices"]), ", ".join(theirs["choices"])]) + " |")
    counts = {key: sum(entry["verdict"].split(" (failed")[0] == key for entry in entries) for key in
              ("better", "matches (within the fold-to-fold spread)", "worse")}
    lines += ["", "### Verdicts", "",
              "`auto` against the stronger (by mean) of FLAML and the best default peer: better (a strictly better",
              "mean), matches (the difference of the means is at most that rival's standard deviation over the outer",
              "folds), or worse. The goal (issue 21): at or above the best on every dataset within the spread, and",
              "strictly better on at least half.", "",
              "| dataset | metric | rival | rival's figure | testbed auto | verdict |", "|---|---|---|---|---|---|"]
    for entry in entries:
        rival = entry["main"]["flaml"] if entry["rival"] == "FLAML" else entry["best_peer"]
        lines.append(f"| {entry['dataset']} | {entry['metric']} | {entry['rival']} | {text(rival)} | "
                     f"{text(entry['main']['testbed_auto'])} | {entry['verdict']} |")
    goal = counts["worse"] == 0 and counts["better"] * 2 >= len(entries)
    lines += ["", f"Summary over {len(entries)} datasets: {counts['better']} better, "
              f"{counts['matches (within the fold-to-fold spread)']} matching within the spread, {counts['worse']} worse; "
              f"the goal is {'met' if goal else 'not met'}."]
    over = [entry["dataset"] for entry in entries if not entry["main"]["testbed_auto"]["within_budget"]]
    if over:
        lines.append(f"`auto` overran its budget by more than 10% on: {', '.join(over)}.")
    errors = [f"{entry['dataset']} fold {row['fold']}: {row['testbed_auto']['error']}" for entry in entries
              for row in entry["main"]["folds"] if row["testbed_auto"]["figure"] is None]
    if errors:
        lines += ["", "`testbed train --algorithm auto` refused these outer folds' training rows (counted as worse):", ""]
        lines += [f"- {error}" for error in errors]
    return lines


def automl_fixture(document):
    """Per small dataset and outer fold: FLAML's and the best default peer's figure at the test budget,
    so a Swift test can run our auto in-process on the same folds with the same budget."""
    cases = []
    for entry in document["datasets"]:
        if "test" not in entry:
            continue
        test = entry["test"]
        cases.append({
            "dataset": f"{entry['dataset']}.csv", "target": entry["target"], "task": entry["task"], "exclude": entry["exclude"],
            "metric": entry["metric"], "folds": entry["outer_folds"], "seed": entry["seed"], "split": entry["split"],
            "budget_seconds": test["budget_seconds"], "best_peer_label": entry["best_peer_label"],
            "flaml": {"mean": test["flaml"]["mean"], "std": test["flaml"]["std"]}, "best_peer": entry["best_peer"],
            "outer_folds": [{"fold": row["fold"], "test_rows": row["test_rows"], "flaml": row["flaml"]["figure"],
                             "flaml_estimator": row["flaml"]["algorithm"], "best_peer": row["best_peer"],
                             "testbed_auto_when_written": row["testbed_auto"]["figure"],
                             "testbed_auto_error_when_written": row["testbed_auto"].get("error")} for row in test["folds"]],
        })
    return {"generator": "scripts/reference/compare_peers.py (--test-budget)", **document["versions"],
            "note": "test_rows are 1-based row numbers in file order (as `testbed folds` prints them); figures are "
                    "RMSE or accuracy on that fold's test rows; FLAML ran with n_jobs=1, seed=0, the same budget per fit; "
                    "testbed_auto_when_written is our auto's figure at the same budget when the fixture was written, "
                    "for information only.",
            "cases": cases}


def better(metric, a, b):
    return a < b if metric == "rmse" else a > b


def markdown(comparison, versions):
    lines = [
        "# Quality: the testbed against scikit-learn and LightGBM",
        "",
        "Generated by `scripts/reference/compare_peers.py` (do not edit by hand); every model is",
        "cross-validated on the same folds (`testbed folds`, seed 0), peers with their default settings.",
        f"scikit-learn {versions['scikit_learn']}, LightGBM {versions['lightgbm']}, "
        f"Python {versions.get('python', platform.python_version())}.",
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
    return lines


def run_default(arguments):
    """Every model with its default settings (and `testbed evaluate --algorithm auto`) on the same folds."""
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
    versions = {"scikit_learn": sklearn.__version__, "lightgbm": lightgbm.__version__, "numpy": np.__version__,
                "python": platform.python_version()}
    out = ROOT / "bench" / "quality"
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.json").write_text(json.dumps({"versions": versions, "datasets": comparison}, indent=1) + "\n")
    fixture = [{"dataset": f"{e['dataset']}.csv", "target": e["target"], "task": e["task"], "folds": e["folds"],
                "exclude": e["exclude"], "metric": e["metric"],
                "peers": {label: result["metrics"][e["metric"]] for label, result in e["peers"].items()}} for e in comparison]
    document = {"generator": "scripts/reference/compare_peers.py", **{k: v for k, v in versions.items() if k != "python"}, "cases": fixture}
    (ROOT / "Tests" / "InferenceCoreTests" / "Fixtures" / "peers.json").write_text(json.dumps(document, indent=1) + "\n")
    print("wrote bench/quality/comparison.json, Tests/InferenceCoreTests/Fixtures/peers.json")
    return {"versions": versions, "datasets": comparison}


def run_automl_part(arguments):
    """auto against FLAML and the best default peer on the same outer folds (see run_automl)."""
    entries = []
    for name, target, task, _, exclude in DATASETS + AUTOML_EXTRA:
        if arguments.only and name not in arguments.only:
            continue
        print(f"{name} (auto against FLAML, {arguments.automl_folds} outer folds, {arguments.automl_budget:g} s per fit):", flush=True)
        began = time.perf_counter()
        entries.append(run_automl(arguments.testbed, name, target, task, exclude, arguments.automl_folds,
                                  arguments.automl_budget, arguments.test_budget))
        entries[-1]["seconds"] = time.perf_counter() - began
        print(f"  {entries[-1]['verdict']} against {entries[-1]['rival']} ({entries[-1]['seconds']:.0f} s)", flush=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    settings = {"budget_seconds": arguments.automl_budget, "outer_folds": arguments.automl_folds,
                "test_budget_seconds": arguments.test_budget, "seed": 0, "n_jobs": 1,
                "machine": f"{os.cpu_count()} cores, {platform.machine()}"}
    out = ROOT / "bench" / "quality"
    previous = stored(out / "automl.json")
    if arguments.only and previous and previous["settings"] == settings:
        # a run of some datasets with the same settings replaces theirs and keeps the others' entries
        ran = {entry["dataset"] for entry in entries}
        order = [name for name, *_ in DATASETS + AUTOML_EXTRA]
        entries = sorted([entry for entry in previous["datasets"] if entry["dataset"] not in ran] + entries,
                         key=lambda entry: order.index(entry["dataset"]))
    document = {"versions": {**automl_versions(), "source_commit": commit}, "settings": settings, "datasets": entries}
    out.mkdir(parents=True, exist_ok=True)
    (out / "automl.json").write_text(compact_json(document))
    written = ["bench/quality/automl.json"]
    fixture = automl_fixture(document)
    if fixture["cases"]:
        (ROOT / "Tests" / "InferenceCoreTests" / "Fixtures" / "automl_peers.json").write_text(compact_json(fixture))
        written.append("Tests/InferenceCoreTests/Fixtures/automl_peers.json")
    print("wrote " + ", ".join(written))
    return document


def compact_json(document):
    """Indented JSON with each list of numbers (rows, per-fold figures) on one line."""
    text = json.dumps(document, indent=1)
    text = re.sub(r"\[\s*([-\d.,\seE+]+?)\s*\]", lambda match: "[" + ", ".join(match.group(1).split()).replace(",,", ",") + "]", text)
    return text + "\n"


def stored(path):
    return json.loads(path.read_text()) if path.exists() else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--testbed", default=str(ROOT / ".build" / "release" / "testbed"))
    parser.add_argument("--time-budget", type=float, default=300, help="auto's budget in the default-peer tables")
    parser.add_argument("--only", nargs="*", help="dataset names to run (default: all); in the automl part the other "
                        "datasets' entries of bench/quality/automl.json are kept when it was written with the same settings")
    parser.add_argument("--only-automl", action="store_true", help="run only auto against FLAML (nested)")
    parser.add_argument("--skip-automl", action="store_true", help="run only the default-peer tables "
                        "(with --only-automl: run nothing, rewrite the document from the stored JSON)")
    parser.add_argument("--automl-budget", type=float, default=15, help="seconds per fit, ours and FLAML's")
    parser.add_argument("--automl-folds", type=int, default=5, help="outer folds of the nested comparison")
    parser.add_argument("--test-budget", type=float, default=5,
                        help="seconds per fit for the automl_peers.json fixture of the small datasets (0: skip)")
    arguments = parser.parse_args()
    quality = ROOT / "bench" / "quality"
    default = stored(quality / "comparison.json") if arguments.only_automl else run_default(arguments)
    automl = stored(quality / "automl.json") if arguments.skip_automl else run_automl_part(arguments)
    lines = markdown(default["datasets"], default["versions"]) if default else []
    lines += automl_markdown(automl) if automl else []
    (ROOT / "docs" / "quality-comparison.md").write_text("\n".join(lines) + "\n")
    print("wrote docs/quality-comparison.md")


if __name__ == "__main__":
    main()
