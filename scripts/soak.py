#!/usr/bin/env python3
"""Soak test: mixed load on one `testbed serve` for a number of minutes.

Inference (Open Inference Protocol and /predict), uploads, training, predictions with the new
model and deletes run side by side; every 30 s the server's resident memory, open file
descriptors and data-directory size are printed. Exits 1 when any request failed, or when memory
or descriptors grew from the first full minute to the end (a leak), with the figures.
Standard library only, so that it runs wherever Python 3 does.
"""
import json, os, re, shutil, signal, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLASS_ROW = {"RI": 1.52, "Na": 13.6, "Mg": 4.5, "Al": 1.1, "Si": 71.8, "K": 0.06, "Ca": 8.75, "Ba": 0, "Fe": 0}


def main():
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    binary = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, ".build/release/testbed")
    data = tempfile.mkdtemp(prefix="soak-run-")
    server = subprocess.Popen([binary, "serve", "--port", "0", "--data-dir", data, "--models-dir", os.path.join(ROOT, "models"),
                               "--max-jobs-per-tenant", "100", "--log-level", "notice"],
                              env={**os.environ, "TESTBED_ADMIN_KEY": "soak-admin"}, stderr=subprocess.PIPE, text=True)
    port = None
    for line in server.stderr:
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            port = int(match.group(1))
            break
    if port is None:
        sys.exit("the server did not start")
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    base = f"http://127.0.0.1:{port}"

    def call(method, path, key, body=None, content_type="application/json"):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        request = urllib.request.Request(base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {key}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")[:300]

    status, tenant = call("POST", "/api/v1/tenants", "soak-admin", {"id": "soak"})
    key = tenant["api_key"]
    servo = open(os.path.join(ROOT, "datasets/Servo.csv"), "rb").read()
    counts = {"requests": 0, "errors": 0}
    lock = threading.Lock()
    errors = []
    deadline = time.time() + minutes * 60

    def record(status, expected, what):
        with lock:
            counts["requests"] += 1
            if status not in expected:
                counts["errors"] += 1
                if len(errors) < 20:
                    errors.append(f"{what}: {status}")

    def inference():
        body = {"inputs": [{"name": "input-0", "shape": [1, 9], "datatype": "FP64", "data": list(GLASS_ROW.values())}]}
        while time.time() < deadline:
            record(call("POST", "/v2/models/glass-type/infer", key, body)[0], {200}, "infer")
            record(call("POST", "/api/v1/models/glass-type/predict", key, {"rows": [GLASS_ROW] * 20, "explain": True})[0], {200}, "predict")

    def pilot():
        round = 0
        while time.time() < deadline:
            round += 1
            status, dataset = call("POST", f"/api/v1/datasets?name=soak-{round}", key, servo, "text/csv")
            record(status, {201}, "upload")
            if status != 201:
                continue
            name = f"soak-model-{round}"
            status, job = call("POST", "/api/v1/jobs", key, {"dataset": dataset["id"], "target": "Class", "algorithms": ["ridge", "gbdt"],
                                                            "model_name": name, "time_budget_seconds": 20})
            record(status, {202}, "job")
            while status == 202 and time.time() < deadline + 60:
                _, seen = call("GET", f"/api/v1/jobs/{job['id']}", key)
                if seen["state"] not in ("queued", "running"):
                    record(200 if seen["state"] == "succeeded" else seen["state"], {200}, "training")
                    break
                time.sleep(0.2)
            record(call("POST", f"/api/v1/models/{name}/predict", key, {"rows": [{"Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4}]})[0], {200}, "new model")
            record(call("DELETE", f"/api/v1/models/{name}", key)[0], {204}, "delete model")
            record(call("DELETE", f"/api/v1/datasets/{dataset['id']}", key)[0], {204}, "delete dataset")

    def sample():
        status = open(f"/proc/{server.pid}/status").read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
        descriptors = len(os.listdir(f"/proc/{server.pid}/fd"))
        disk = sum(os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(data) for name in names) / 1e6
        return rss, descriptors, disk

    workers = [threading.Thread(target=inference) for _ in range(3)] + [threading.Thread(target=pilot)]
    for worker in workers:
        worker.start()
    started = time.time()
    samples = []
    print(f"{'minute':>7} {'resident MB':>12} {'descriptors':>12} {'disk MB':>8} {'requests':>9} {'errors':>7}", flush=True)
    while any(worker.is_alive() for worker in workers):
        time.sleep(min(30, max(0.1, deadline - time.time() + 0.5)) if time.time() < deadline else 1)
        if server.poll() is not None:
            sys.exit(f"the server died with status {server.returncode}")
        rss, descriptors, disk = sample()
        samples.append((time.time() - started, rss, descriptors, disk))
        print(f"{samples[-1][0] / 60:7.1f} {rss:12.1f} {descriptors:12d} {disk:8.2f} {counts['requests']:9d} {counts['errors']:7d}", flush=True)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    shutil.rmtree(data, ignore_errors=True)

    steady = [s for s in samples if s[0] >= 60] or samples
    first, last = steady[0], steady[-1]
    print(f"\n{counts['requests']} requests in {minutes:g} min, {counts['errors']} errors; server exit status {server.returncode}")
    print(f"resident memory {first[1]:.1f} MB after the first minute, {last[1]:.1f} MB at the end (peak {max(s[1] for s in samples):.1f});"
          f" descriptors {first[2]} → {last[2]}; data directory {last[3]:.2f} MB")
    problems = errors[:]
    if last[1] > first[1] * 1.25 + 10:
        problems.append(f"resident memory grew from {first[1]:.1f} to {last[1]:.1f} MB")
    if last[2] > first[2] + 10:
        problems.append(f"descriptors grew from {first[2]} to {last[2]}")
    if server.returncode != 0:
        problems.append(f"the server exited with {server.returncode}")
    for problem in problems:
        print("problem:", problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
