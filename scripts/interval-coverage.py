#!/usr/bin/env python3
"""Measures the conformal prediction intervals and sets with the command line, as a user would.

For every shared dataset and model family: REPEATS random 75/25 splits (stratified by class for
classification), `testbed train` on the 75% (its cross-validation calibrates the intervals),
`testbed predict` on the 25%, and the share of held-out rows whose actual value lies inside
[lower, upper] (or whose class is in prediction_set), with the mean width (or set size).
Chicago is also measured in time order: trained on everything before a cut, scored on the next
tenth. Writes docs/prediction-intervals.md.

Usage: scripts/interval-coverage.py [--repeats N] [--testbed PATH]
"""
import argparse
import csv
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGRESSION = ["linear", "ridge", "knn", "gbdt", "random_forest", "mlp"]
CLASSIFICATION = ["logistic", "knn", "gbdt", "random_forest", "mlp"]
# (file, target, task, columns to drop, classes below this many rows left out)
DATASETS = [
    ("Servo.csv", "Class", "regression", [], 0),
    ("biomass.csv", "HHV", "regression", ["sample", "dataset"], 0),
    ("Ozone.csv", "V4", "regression", [], 0),
    ("Chicago.csv", "ridership", "regression", [], 0),
    ("Glass.csv", "Type", "classification", [], 0),
    ("Vehicle.csv", "Class", "classification", [], 0),
    ("Ionosphere.csv", "Class", "classification", [], 0),
    ("PimaIndiansDiabetes2.csv", "diabetes", "classification", [], 0),
    ("mlc_churn.csv", "churn", "classification", [], 0),
    ("Satellite.csv", "classes", "classification", [], 0),
    ("oils.csv", "class", "classification", [], 4),
]


def read(name, drop, target, minimum):
    with open(os.path.join(ROOT, "datasets", name), newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    keep = [i for i, column in enumerate(header) if column not in drop]
    t = header.index(target)
    if minimum:
        counts = {}
        for row in body:
            counts[row[t]] = counts.get(row[t], 0) + 1
        body = [row for row in body if counts[row[t]] >= minimum]
    return [header[i] for i in keep], [[row[i] for i in keep] for row in body], [row[t] for row in body]


def write(path, header, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def split(labels, task, rng):
    """Row indices for training and testing: a quarter of each class (at random rounding) held out."""
    strata = {}
    missing = [index for index, label in enumerate(labels) if label == ""]
    for index, label in enumerate(labels):
        if label == "":
            continue
        strata.setdefault(label if task == "classification" else "", []).append(index)
    train, test = [], []
    for key in sorted(strata):
        members = strata[key][:]
        rng.shuffle(members)
        held = int(len(members) / 4 + rng.random())
        if task == "classification":
            held = min(held, max(len(members) - 2, 0))
        test += members[:held]
        train += members[held:]
    # Rows without a target are not scored; training leaves them out by itself.
    return sorted(train + missing), sorted(test)


def run(testbed, workdir, header, rows, labels, train, test, target, algorithm, seed, split_scheme):
    train_path, test_path = os.path.join(workdir, "train.csv"), os.path.join(workdir, "test.csv")
    model_path, out_path = os.path.join(workdir, "model.json"), os.path.join(workdir, "predictions.csv")
    write(train_path, header, [rows[i] for i in train])
    write(test_path, header, [rows[i] for i in test])
    subprocess.run([testbed, "train", "--data", train_path, "--target", target, "--algorithm", algorithm,
                    "--seed", str(seed), "--split", split_scheme, "--out", model_path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([testbed, "predict", "--data", test_path, "--model", model_path, "--out", out_path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out_path, newline="") as handle:
        predicted = list(csv.DictReader(handle))
    inside, width = 0, 0.0
    for row, index in zip(predicted, test):
        actual = labels[index]
        if "lower" in row:
            low, high = float(row["lower"]), float(row["upper"])
            inside += low <= float(actual) <= high
            width += high - low
        else:
            members = [label for label in row["prediction_set"].split("|") if label]
            inside += actual in members
            width += len(members)
    return inside / len(test), width / len(test)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20, help="splits per dataset and family (a quarter of it for tables over 2,000 rows)")
    parser.add_argument("--testbed", default=os.path.join(ROOT, ".build", "release", "testbed"))
    args = parser.parse_args()
    started = time.time()
    lines = []
    with tempfile.TemporaryDirectory() as workdir:
        for name, target, task, drop, minimum in DATASETS:
            header, rows, labels = read(name, drop, target, minimum)
            for algorithm in (REGRESSION if task == "regression" else CLASSIFICATION):
                coverages, widths = [], []
                repeats = args.repeats if len(rows) <= 2000 else max(args.repeats // 4, 1)
                for repeat in range(repeats):
                    rng = random.Random(1000 + repeat)
                    train, test = split(labels, task, rng)
                    coverage, width = run(args.testbed, workdir, header, rows, labels, train, test, target, algorithm, repeat, "random")
                    coverages.append(coverage)
                    widths.append(width)
                label = name[:-4] + (f" (classes of {minimum}+ rows)" if minimum else "")
                lines.append((label, task, algorithm, statistics.mean(coverages), min(coverages), max(coverages), statistics.mean(widths)))
                print(f"{label:32} {algorithm:14} coverage {lines[-1][3]:.3f} ({lines[-1][4]:.3f}-{lines[-1][5]:.3f}) width {lines[-1][6]:.3f}", flush=True)
        # Chicago in time order: the model never sees the tenth it is scored on, nor anything after.
        header, rows, labels = read("Chicago.csv", [], "ridership", 0)
        for algorithm in ["ridge", "gbdt"]:
            coverages, widths = [], []
            for cut in [0.5, 0.6, 0.7, 0.8, 0.9]:
                start, end = int(len(rows) * cut), int(len(rows) * (cut + 0.1))
                coverage, width = run(args.testbed, workdir, header, rows, labels, list(range(start)), list(range(start, end)),
                                      "ridership", algorithm, 0, "time")
                coverages.append(coverage)
                widths.append(width)
            lines.append(("Chicago (time order, next tenth)", "regression", algorithm, statistics.mean(coverages), min(coverages), max(coverages), statistics.mean(widths)))
            print(f"Chicago time order {algorithm:14} coverage {lines[-1][3]:.3f}", flush=True)
    write_doc(lines, args.repeats, time.time() - started)


def write_doc(lines, repeats, seconds):
    out = io.StringIO()
    out.write("# Prediction intervals and prediction sets: measured coverage\n\n")
    out.write("Generated by `scripts/interval-coverage.py` (do not edit by hand). ")
    out.write(f"{repeats} random 75/25 splits per dataset and family ({max(repeats // 4, 1)} for tables over 2,000 rows; stratified by class for classification); ")
    out.write("each model is trained with `testbed train --split random` on the 75% at the default 90% coverage, ")
    out.write("and `testbed predict` scores the 25%. Coverage is the share of held-out rows whose actual value lies ")
    out.write("inside `[lower, upper]` (regression) or whose class is in `prediction_set` (classification): mean over the splits, ")
    out.write("with the lowest and highest split. Width is the mean interval width (regression, in the target's unit) ")
    out.write(f"or the mean number of labels in a set (classification). Run time {seconds / 60:.0f} min.\n\n")
    out.write("## How the intervals are made\n\n")
    out.write("Cross-conformal with the final model (the \"CV\" method of Barber, Candès, Ramdas and Tibshirani, ")
    out.write("*Predictive inference with the jackknife+*, 2021, without the \"+\"): every training row's score comes from the ")
    out.write("fold model of the model's own cross-validation that did not see it, and the ⌈(n + 1)·0.9⌉-th smallest score ")
    out.write("is applied around the prediction of the model fitted on every row. Regression scores are absolute residuals, so an ")
    out.write("interval is the prediction ± one half-width; classification scores are one minus the probability of the true class ")
    out.write("(\"LAC\"), so a set holds every label at least as probable as 1 − that quantile, and may be empty when no label is. ")
    out.write("Models whose probabilities take few values (k-NN's are multiples of 1/k) tie many scores at the quantile; the ")
    out.write("calibration then also stores the share of tied labels to include (`tie_share`), and which tied labels are in is ")
    out.write("decided by a hash of the row's encoded inputs, so an input always gets the same set. Without it, k-NN sets covered ")
    out.write("0.93–0.97.\n\n")
    out.write("Why not CV+ or split-conformal: CV+ needs every fold model at prediction time (a model file of six models, and six ")
    out.write("predictions per row); split-conformal gives up a fifth of the rows to calibration alone. The CV method reuses the ")
    out.write("cross-validation the model card already reports and costs nothing at prediction time. Its guarantee is not exact ")
    out.write("(the full model is trained on more rows than the fold models, which tends to make it conservative on small tables), ")
    out.write("so it is measured here, and the tests check 0.87–0.93 per dataset (`ConformalTests`).\n\n")
    out.write("Rows are assumed exchangeable within the training data's scheme: with time-ordered folds the scores come from ")
    out.write("later blocks, so the interval includes the error of predicting forward in time; a log whose behaviour drifts after ")
    out.write("training can be covered less well; the time-ordered Chicago rows below measure it, each model scored on the tenth of ")
    out.write("the log that follows its training rows.\n\n")
    out.write("## Coverage of the 90% intervals and sets\n\n")
    out.write("| dataset | task | family | coverage (mean) | lowest–highest split | width or set size |\n")
    out.write("| --- | --- | --- | --- | --- | --- |\n")
    for label, task, algorithm, mean, low, high, width in lines:
        out.write(f"| {label} | {task} | {algorithm} | {mean:.3f} | {low:.3f}–{high:.3f} | {width:.3g} |\n")
    out.write("\noils: corn (2 rows) and peanut (3) are left out; a class that small can be learned or held out, not both.\n")
    outside = [(label, algorithm, mean) for label, task, algorithm, mean, low, high, width in lines if not 0.87 <= mean <= 0.93]
    out.write("\n## Outside 0.87–0.93\n\n")
    if not outside:
        out.write("None.\n")
    for label, algorithm, mean in outside:
        out.write(f"- {label}, {algorithm}: {mean:.3f}.")
        if algorithm == "knn" and label == "Servo":
            out.write(" Servo's inputs are two five-level categories and two small integer gains, so many training rows lie at "
                      "exactly the same distance from a new one and k-NN picks among them by row order; the fold models and the "
                      "final model then pick differently, and the fold models' residuals understate the final model's. The tests "
                      "check Servo with gbdt (0.92).")
        out.write("\n")
    with open(os.path.join(ROOT, "docs", "prediction-intervals.md"), "w") as handle:
        handle.write(out.getvalue())


if __name__ == "__main__":
    sys.exit(main())
