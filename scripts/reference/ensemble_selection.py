#!/usr/bin/env python3
"""Writes Tests/InferenceCoreTests/Fixtures/ensemble_selection.json: greedy ensemble selection
(Caruana et al., 2004) computed with numpy on small synthetic out-of-fold predictions, for
EnsembleSelectionTests to compare InferenceCore's EnsembleSelection with.

    python3 scripts/reference/ensemble_selection.py

The rules written out here are the testbed's: forward selection with replacement from the best
single candidate; each round adds the candidate whose addition gives the best score of the
equally weighted average (the first candidate on a tie); the best round with at least two distinct
candidates is kept (the earliest on a tie) when it beats the best single candidate; weights are selection counts over the kept rounds. Scores, lower is better: RMSE for
regression; for classification minus the accuracy (the first most probable class is predicted),
ties broken by the log loss with probabilities clipped to [eps, 1 - eps], eps = 2**-52.
Only numpy is needed.
"""
import json
import pathlib

import numpy as np

EPS = np.finfo(float).eps


def score(average, actual, task):
    if task == "regression":
        return (float(np.sqrt(np.mean((average[:, 0] - actual) ** 2))), 0.0)
    labels = actual.astype(int)
    accuracy = float(np.mean(np.argmax(average, axis=1) == labels))
    truth = np.clip(average[np.arange(len(labels)), labels], EPS, 1 - EPS)
    return (-accuracy, float(-np.mean(np.log(truth))))


def select(predictions, actual, task, rounds):
    stack = np.stack(predictions)  # candidates × rows × columns
    singles = [score(p, actual, task) for p in stack]
    best = min(range(len(singles)), key=lambda i: singles[i])  # min keeps the first on a tie
    counts = np.zeros(len(stack), dtype=int)
    counts[best] = 1
    total = stack[best].copy()
    kept = (counts.copy(), 1, singles[best])
    for r in range(2, rounds + 1):
        trials = [score((total + p) / r, actual, task) for p in stack]
        chosen = min(range(len(trials)), key=lambda i: trials[i])
        total += stack[chosen]
        counts[chosen] += 1
        if trials[chosen] < kept[2] and np.count_nonzero(counts) > 1:
            kept = (counts.copy(), r, trials[chosen])
    counts, kept_rounds, kept_score = kept
    return {"weights": (counts / kept_rounds).tolist(), "counts": counts.tolist(), "rounds_kept": kept_rounds,
            "best_single": best, "score": list(kept_score), "best_single_score": list(singles[best])}


def regression_case(rng, rows, candidates):
    actual = rng.normal(size=rows) * 3
    predictions = []
    for c in range(candidates):
        # Candidates with different biases and noise, so that averaging helps.
        noise = rng.normal(size=rows) * (0.5 + c * 0.4)
        predictions.append((actual + noise + (c - candidates / 2) * 0.3).reshape(rows, 1))
    return actual, predictions


def classification_case(rng, rows, candidates, classes):
    actual = rng.integers(0, classes, size=rows).astype(float)
    predictions = []
    for c in range(candidates):
        logits = rng.normal(size=(rows, classes)) * (1.0 + 0.3 * c)
        logits[np.arange(rows), actual.astype(int)] += 1.2 - 0.2 * c
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        predictions.append(p / p.sum(axis=1, keepdims=True))
    return actual, predictions


def main():
    rng = np.random.default_rng(20041)
    cases = []
    for name, task, (actual, predictions), rounds in [
        ("regression, 5 candidates", "regression", regression_case(rng, 60, 5), 25),
        ("regression, 3 candidates, 7 rounds", "regression", regression_case(rng, 40, 3), 7),
        ("two classes, 4 candidates", "classification", classification_case(rng, 80, 4, 2), 25),
        ("three classes, 6 candidates", "classification", classification_case(rng, 90, 6, 3), 25),
    ]:
        case = {"name": name, "task": task, "rounds": rounds, "actual": actual.tolist(),
                "predictions": [p.tolist() for p in predictions]}
        case.update(select(predictions, actual, task, rounds))
        cases.append(case)
    path = pathlib.Path(__file__).resolve().parents[2] / "Tests/InferenceCoreTests/Fixtures/ensemble_selection.json"
    document = {"generator": "scripts/reference/ensemble_selection.py", "numpy": np.__version__, "cases": cases}
    path.write_text(json.dumps(document, indent=1) + "\n")
    for case in cases:
        print(case["name"], case["counts"], case["rounds_kept"], case["score"], case["best_single_score"])


if __name__ == "__main__":
    main()
