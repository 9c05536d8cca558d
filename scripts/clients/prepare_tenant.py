"""Makes a tenant on a running testbed and trains a model on each of three real datasets through
the pilot API, as a pilot would: numeric inputs with integer classes (Glass), text labels (oils),
and text inputs with a numeric target (Servo). Prints shell assignments for scripts/clients/run.sh:
TESTBED_KEY and TESTBED_MODELS (name=csv,…, the demonstration models included)."""
import os
import time

import requests

URL = os.environ["TESTBED_URL"]
ADMIN = {"Authorization": "Bearer " + open(os.environ["TESTBED_ADMIN_KEY_FILE"]).read().strip()}
DATASETS = os.path.join(os.path.dirname(__file__), "..", "..", "datasets")

created = requests.post(f"{URL}/api/v1/tenants", headers=ADMIN, json={"id": "client-checks"})
created.raise_for_status()
key = created.json()["api_key"]
auth = {"Authorization": f"Bearer {key}"}

trained = [("glass-forest", "Glass.csv", "Type", "random_forest"), ("oil-logistic", "oils.csv", "class", "logistic"),
           ("servo-gbdt", "Servo.csv", "Class", "gbdt")]
def wait(job):
    deadline = time.time() + 300
    while True:
        state = requests.get(f"{URL}/api/v1/jobs/{job}", headers=auth).json()
        if state["state"] == "succeeded":
            return
        if state["state"] in ("failed", "cancelled", "interrupted") or time.time() > deadline:
            raise SystemExit(f"job {job}: {state}")
        time.sleep(0.2)


# One after another: a tenant may have two jobs queued or running at once.
for name, csv, target, algorithm in trained:
    with open(os.path.join(DATASETS, csv), "rb") as file:
        upload = requests.post(f"{URL}/api/v1/datasets?name={name}", headers={**auth, "Content-Type": "text/csv"}, data=file.read())
    upload.raise_for_status()
    job = requests.post(f"{URL}/api/v1/jobs", headers=auth, json={
        "dataset": upload.json()["id"], "target": target, "algorithms": [algorithm], "model_name": name})
    job.raise_for_status()
    wait(job.json()["id"])

models = [(name, csv) for name, csv, _, _ in trained] + [("glass-type", "Glass.csv"), ("servo-rise-time", "Servo.csv"), ("rail-ridership", "Chicago.csv")]
print(f"export TESTBED_KEY='{key}'")
print("export TESTBED_MODELS='" + ",".join(f"{name}={os.path.realpath(os.path.join(DATASETS, csv))}" for name, csv in models) + "'")
