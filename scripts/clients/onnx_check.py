#!/usr/bin/env python3
"""Checks exported ONNX models against the testbed's own predictions, with ONNX Runtime from PyPI.

For every shared dataset (datasets/, copies of ../shared/datasets) and every model family that learns its task, and for
one synthetic table that exercises what the shared ones lack (times of day with UTC offsets and
years 1 to 9999, yes/no columns, a categorical column with more than 100 levels, missing cells):

  1. `testbed train` fits the model on every row, with 3-fold cross-validation (which calibrates
     the regression intervals) and small settings for the slow families (below), so that the whole
     check takes about two minutes on two cores;
  2. `testbed export --format onnx` writes it as ONNX, which `onnx.checker` (full check, with
     shape inference) must accept;
  3. `testbed predict` scores the rows (the training rows, and copies of some of them with cells
     made missing and categories replaced by unseen ones), writing every number in full precision;
  4. ONNX Runtime scores the same rows from the same CSV cells, sent as the exported inputs expect
     (numbers and times as double with NaN for missing, text as string with "" for missing).

Then it compares: every number of `predict`, `predict_proba` and `predict_interval` must agree to
1e-9 relative (|a − b| ≤ 1e-9 · max(|a|, |b|); for an interval's bounds, prediction ∓ half-width,
relative to |prediction| + half-width, the size of the terms; the graphs compute in double) and
every label must be the same. Prints a table and exits 1 on any failure.

k-NN is the one exception, and only at a tie: where a row's k-th and (k+1)-th nearest training
rows are at the same distance up to rounding (1e-9 of the squared distance, and at least of 1;
unseen categories and repeated rows make many such ties), either neighbour is a right answer, and
which one a program takes is decided by the last bits of its arithmetic, which OpenBLAS's kernels
and ONNX Runtime's round differently. Those rows, found from the graph's own distances, are left
out of the comparison and counted in the table ("ties"); every other row must agree as above.

Usage: onnx_check.py --testbed .build/release/testbed [--work DIR] [--only DATASET]
"""
import argparse
import csv
import datetime
import io
import json
import math
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "datasets"  # the shared datasets, committed unchanged (datasets/README.md)
RELATIVE_TOLERANCE = 1e-9
MISSING = {"", "na", "n/a", "nan", "null", "?"}

# name, target, task, excluded columns, as in datasets/README.md. Every row of every dataset is used.
DATASETS = [
    ("Servo", "Class", "regression", ()),
    ("biomass", "HHV", "regression", ("sample", "dataset")),
    ("Ozone", "V4", "regression", ()),
    ("Chicago", "ridership", "regression", ()),
    ("Satellite", "classes", "classification", ()),
    ("Glass", "Type", "classification", ()),
    ("Vehicle", "Class", "classification", ()),
    ("Ionosphere", "Class", "classification", ()),
    ("PimaIndiansDiabetes2", "diabetes", "classification", ()),
    ("mlc_churn", "churn", "classification", ()),
    ("oils", "class", "classification", ()),
    ("synthetic-regression", "y", "regression", ("label",)),
    ("synthetic-classification", "label", "classification", ("y",)),
]
FAMILIES = {
    "regression": ["linear", "ridge", "knn", "gbdt", "random_forest", "mlp"],
    "classification": ["logistic", "knn", "gbdt", "random_forest", "mlp"],
}
# Small settings: the check is about the export, not the model's quality.
PARAMETERS = {
    "gbdt": ["max_iter=30"],
    "random_forest": ["n_estimators=15"],
    "mlp": ["max_iter=40", "hidden_units=32"],
}
# Rows scored beyond the training rows: copies with missing cells and unseen categories.
PERTURBED_ROWS = 150


def synthetic_table(seed=7, rows=600):
    """A table with every kind of feature: times with offsets (and years 1 and 9999), yes/no,
    a categorical column of 120 levels (more than the 100 one-hot keeps), numbers with gaps."""
    generator = random.Random(seed)
    lines = [["when", "flag", "city", "colour", "x", "y", "label"]]
    for row in range(rows):
        if row % 53 == 0:
            when = ""
        elif row % 97 == 0:
            when = generator.choice(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1900-02-28T12:30:00+01:00", "1969-12-31T23:59:59Z"])
        else:
            stamp = datetime.datetime(1950, 1, 1) + datetime.timedelta(seconds=generator.randrange(0, 100 * 365 * 86400))
            offset = generator.choice(["Z", "+02:00", "-05:00", "+05:30", "-09:30"])
            when = stamp.strftime("%Y-%m-%dT%H:%M:%S") + offset
        flag = generator.choice(["yes", "no", "yes", "no", ""])
        city = f"city{generator.randrange(0, 120):03d}" if row % 41 else ""
        colour = generator.choice(["red", "green", "blue"])
        x = "" if row % 17 == 0 else f"{generator.gauss(0, 3):.6f}"
        hour = int(when[11:13]) if len(when) > 13 else 12
        y = (hour - 12) ** 2 / 10 + (2 if flag == "yes" else 0) + (int(city[4:]) % 7 if city else 3) + (float(x) if x else 0) + generator.gauss(0, 0.5)
        label = "morning" if hour < 12 and flag != "no" else ("late" if hour >= 18 else "day")
        lines.append([when, flag, city, colour, x, f"{y:.6f}", label])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    return buffer.getvalue()


def read_rows(text):
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [row for row in reader]


def write_rows(path, header, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header] + rows)


def perturbed(header, rows, features, seed=11):
    """Copies of some rows with, in each, one feature made missing and, for text features, an
    unseen category (or an upper-case yes/no)."""
    generator = random.Random(seed)
    kinds = {feature["name"]: feature["kind"] for feature in features}
    names = [name for name in header if name in kinds]
    copies = []
    for _ in range(min(PERTURBED_ROWS, len(rows))):
        row = list(generator.choice(rows))
        name = generator.choice(names)
        column = header.index(name)
        if kinds[name] in ("categorical",) and generator.random() < 0.5:
            row[column] = "never-seen-in-training"
        elif kinds[name] == "boolean" and generator.random() < 0.5:
            row[column] = row[column].upper()
        else:
            row[column] = ""
        copies.append(row)
    return copies


def wall_clock_seconds(text):
    """An ISO 8601 date or time as seconds since 1970 on its own wall clock (its offset added)."""
    if text.strip().lower() in MISSING:
        return math.nan
    value = text.strip().replace("Z", "+00:00")
    if len(value) == 10:
        moment = datetime.datetime.fromisoformat(value)
    else:
        moment = datetime.datetime.fromisoformat(value).replace(tzinfo=None)
    # Whole days and seconds separately: exact for years 1 to 9999, where a float of microseconds would round.
    delta = moment - datetime.datetime(1970, 1, 1)
    return float(delta.days * 86400 + delta.seconds) + delta.microseconds / 1e6


def onnx_inputs(session, features, header, rows):
    """The graph's inputs for `rows`, from the same CSV cells `testbed predict` reads."""
    feeds = {}
    for feature in features:
        cells = [row[header.index(feature["name"])] for row in rows]
        if feature["kind"] == "timestamp":
            values = np.array([[wall_clock_seconds(cell)] for cell in cells], dtype=np.float64)
        elif feature["input"] == "double":
            values = np.array([[math.nan if cell.strip().lower() in MISSING else float(cell)] for cell in cells], dtype=np.float64)
        else:
            values = np.array([["" if cell.strip().lower() in MISSING else cell] for cell in cells], dtype=object)
        feeds[feature["name"]] = values
    expected = {i.name for i in session.get_inputs()}
    assert expected == set(feeds), f"inputs {sorted(expected)} != {sorted(feeds)}"
    return feeds


def relative_difference(ours, theirs, scale=None):
    """The largest |a − b| / max(|a|, |b|, scale) and the largest |a − b|. `scale` is the size of
    the terms an output is the difference of, where that is larger than the output itself: an
    interval's bound, prediction − half-width, can be near 0 while both terms are not, and then
    the last bit of the prediction is all that differs."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    scale = np.maximum(np.abs(ours), np.abs(theirs)) if scale is None else np.maximum(np.maximum(np.abs(ours), np.abs(theirs)), scale)
    difference = np.abs(ours - theirs)
    both_nan = np.isnan(ours) & np.isnan(theirs)
    relative = np.where(scale > 0, difference / np.where(scale > 0, scale, 1), 0.0)
    relative = np.where(both_nan, 0.0, relative)
    return float(np.max(relative)) if relative.size else 0.0, float(np.nanmax(np.where(both_nan, 0.0, difference))) if difference.size else 0.0


def expose_distances(model):
    """Adds a k-NN graph's squared distances from every row to the training rows (the input of its
    TopK) to the graph's outputs; returns that output's name and k."""
    top = next(node for node in model.graph.node if node.op_type == "TopK")
    k = int(next(numpy_helper.to_array(t) for t in model.graph.initializer if t.name == top.input[1]).reshape(-1)[0])
    model.graph.output.append(onnx.helper.make_tensor_value_info(top.input[0], onnx.TensorProto.DOUBLE, None))
    return top.input[0], k


def near_ties(distances, k):
    """The rows whose k-th and (k+1)-th smallest squared distances are within 1e-9 of each other,
    relative to the larger and to at least 1 (the rounding of ‖q‖² − 2·q·p + ‖p‖² scales with the
    norms, not with the distance)."""
    distances = np.sort(distances, axis=1)
    if distances.shape[1] <= k:
        return np.zeros(distances.shape[0], dtype=bool)
    kth, next_one = distances[:, k - 1], distances[:, k]
    return np.abs(next_one - kth) <= 1e-9 * np.maximum(np.maximum(np.abs(kth), np.abs(next_one)), 1.0)


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{result.stderr.strip()}")
    return result


def check(testbed, work, name, target, task, excluded, family):
    source = DATA / f"{name}.csv"
    text = synthetic_table() if name.startswith("synthetic") else source.read_text()
    header, rows = read_rows(text)
    training = work / f"{name}.csv"
    write_rows(training, header, rows)

    model = work / f"{name}-{family}.json"
    command = [testbed, "train", "--data", training, "--target", target, "--task", task, "--algorithm", family,
               "--folds", "3", "--out", model]
    if excluded:
        command += ["--exclude", *excluded]
    if name.startswith("synthetic"):
        command.append("--missing-indicators")  # the indicator columns, which no shared dataset needs
    for parameter in PARAMETERS.get(family, []):
        command += ["--param", parameter]
    run(command)
    exported = work / f"{name}-{family}.onnx"
    run([testbed, "export", "--model", model, "--format", "onnx", "--out", exported])

    # The ONNX package's own checker, with shape inference: the file is valid ONNX, not only something ONNX Runtime accepts.
    onnx_model = onnx.load(str(exported))
    onnx.checker.check_model(onnx_model, full_check=True)
    # k-NN's distances come out of the same run as its predictions, for the ties below.
    distance_output, k = expose_distances(onnx_model) if family == "knn" else (None, 0)
    session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    metadata = session.get_modelmeta().custom_metadata_map
    features = json.loads(metadata["features"])
    scored = rows + perturbed(header, rows, features)
    scoring = work / f"{name}-{family}-score.csv"
    write_rows(scoring, header, scored)
    predictions = work / f"{name}-{family}-predictions.csv"
    run([testbed, "predict", "--data", scoring, "--model", model, "--out", predictions])
    with open(predictions, newline="") as handle:
        ours = list(csv.DictReader(handle))

    outputs = [output.name for output in session.get_outputs() if output.name != distance_output]
    values = session.run(outputs + ([distance_output] if distance_output else []), onnx_inputs(session, features, header, scored))
    results = dict(zip(outputs, values))
    ties = 0
    if distance_output:
        # Rows at a tie (see the module's documentation) are left out on both sides.
        kept = ~near_ties(values[-1], k)
        ties = int(np.count_nonzero(~kept))
        ours = [row for row, keep in zip(ours, kept) if keep]
        results = {name: value[kept] for name, value in results.items()}
    comparisons = []
    labels_agree = None
    if task == "regression":
        comparisons.append(relative_difference([float(row["prediction"]) for row in ours], results["predict"]))
        if "predict_interval" in results:
            if "lower" not in ours[0]:
                raise RuntimeError("the ONNX model has predict_interval but testbed predict wrote no interval")
            bounds = np.array([[float(row["lower"]), float(row["upper"])] for row in ours])
            terms = np.abs(bounds.mean(axis=1, keepdims=True)) + (bounds[:, 1:] - bounds[:, :1]) / 2  # |prediction| + half-width
            comparisons.append(relative_difference(bounds, results["predict_interval"], scale=terms))
        elif "lower" in ours[0]:
            raise RuntimeError("testbed predict wrote an interval but the ONNX model has no predict_interval")
    else:
        classes = json.loads(metadata["classes"])
        probabilities = [[float(row[f"proba_{label}"]) for label in classes] for row in ours]
        comparisons.append(relative_difference(probabilities, results["predict_proba"]))
        theirs = [str(label) for label in results["predict"].tolist()]
        # predict's CSV guards text a spreadsheet would run as a formula with a leading "'".
        mine = [row["prediction"][1:] if row["prediction"] not in classes and row["prediction"][1:] in classes else row["prediction"]
                for row in ours]
        agree = sum(a == b for a, b in zip(mine, theirs))
        labels_agree = (agree, len(mine))
    relative = max(c[0] for c in comparisons)
    absolute = max(c[1] for c in comparisons)
    precision = metadata.get("precision", "double")
    return {"dataset": name, "family": family, "rows": len(scored), "relative": relative, "absolute": absolute,
            "labels": labels_agree, "precision": precision, "ties": ties,
            "ok": relative <= RELATIVE_TOLERANCE and (labels_agree is None or labels_agree[0] == labels_agree[1])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--testbed", default=str(ROOT / ".build" / "release" / "testbed"))
    parser.add_argument("--work", help="keep the models and CSV files here (default: a temporary directory)")
    parser.add_argument("--only", help="only this dataset")
    args = parser.parse_args()
    started = time.monotonic()
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        work = pathlib.Path(args.work or scratch)
        work.mkdir(parents=True, exist_ok=True)
        print(f"{'dataset':<26}{'family':<15}{'rows':>6}  {'max rel. diff':>13}  {'max abs. diff':>13}  {'labels':>11}  precision  result")
        for name, target, task, excluded in DATASETS:
            if args.only and args.only != name:
                continue
            for family in FAMILIES[task]:
                try:
                    r = check(args.testbed, work, name, target, task, excluded, family)
                except Exception as error:  # a failed step is a failure of the check, reported in the table
                    failures += 1
                    print(f"{name:<26}{family:<15}  FAILED: {error}")
                    continue
                labels = "-" if r["labels"] is None else f"{r['labels'][0]}/{r['labels'][1]}"
                tie_note = f" ({r['ties']} ties left out)" if r["ties"] else ""
                print(f"{name:<26}{family:<15}{r['rows']:>6}  {r['relative']:>13.3g}  {r['absolute']:>13.3g}  {labels:>11}  {r['precision']:<9}  {'ok' if r['ok'] else 'FAIL'}{tie_note}",
                      flush=True)
                failures += 0 if r["ok"] else 1
    print(f"onnxruntime {ort.__version__}; tolerance {RELATIVE_TOLERANCE:g} relative; {time.monotonic() - started:.0f} s; "
          f"{'all agree' if failures == 0 else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
