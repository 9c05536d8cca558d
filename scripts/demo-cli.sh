#!/usr/bin/env bash
# The command line on bundled real data: builds `testbed` and demonstrates it —
# profile a file, cross-validate, train and save a model, predict with it.
# (The main job, the HTTP server, is scripts/run.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product testbed
testbed=.build/release/testbed
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "== A mechanical engineering firm: servo rise time from motor, screw and gain settings"
step $testbed profile --data datasets/Servo.csv
step $testbed evaluate --data datasets/Servo.csv --target Class --algorithm linear --folds 10
step $testbed evaluate --data datasets/Servo.csv --target Class --algorithm auto --folds 10
step $testbed train --data datasets/Servo.csv --target Class --algorithm auto --out "$work/servo.json"
printf 'Motor,Screw,Pgain,Vgain\nA,A,3,1\nE,D,6,5\n' > "$work/new-settings.csv"
step $testbed predict --model "$work/servo.json" --data "$work/new-settings.csv" --explain

echo
echo "== A quality lab: glass type from its oxide composition"
step $testbed evaluate --data datasets/Glass.csv --target Type --folds 10
step $testbed train --data datasets/Glass.csv --target Type --algorithm random_forest --out "$work/glass.json"
head -4 datasets/Glass.csv > "$work/samples.csv"
step $testbed predict --model "$work/glass.json" --data "$work/samples.csv" --explain --top 2
step $testbed evaluate --model "$work/glass.json" --data datasets/Glass.csv

echo
echo "== A transport operator: tomorrow's boardings from a 15-year daily log"
step $testbed profile --data datasets/Chicago.csv
step $testbed evaluate --data datasets/Chicago.csv --target ridership --algorithm gbdt --no-importance
step $testbed train --data datasets/Chicago.csv --target ridership --algorithm gbdt --coverage 0.9 --out "$work/riders.json"
tail -2 datasets/Chicago.csv | sed 's/^[^,]*,//' | sed '1i '"$(head -1 datasets/Chicago.csv | sed 's/^[^,]*,//')" > "$work/days.csv"
step $testbed predict --model "$work/riders.json" --data "$work/days.csv"
