#!/usr/bin/env python3
"""Three testbed replicas on one PostgreSQL and one storage root, behind nginx, put through a
pilot's flow and the faults a cluster meets (scripts/cluster-test.sh starts it).

Usage: cluster_test.py TESTBED POSTGRES_URL POSTGRES_DIR
Only the standard library: the checks are HTTP requests, process signals and psql.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN = "cluster-admin-key"
SERVO_ROW = {"Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4}


class Failure(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Failure(what)
    print(f"  ok: {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, key=None, body=None, raw=None, content_type="application/json", timeout=30):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as reply:
            text = reply.read().decode()
            return reply.status, (json.loads(text) if text else None), dict(reply.headers)
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return error.code, parsed, dict(error.headers)


class Replica:
    def __init__(self, testbed, index, storage, database, logs, admin=ADMIN):
        self.index, self.port = index, free_port()
        self.log_path = os.path.join(logs, f"replica-{index}.log")
        self.args = [testbed, "serve", "--port", str(self.port), "--data-dir", storage, "--database", database,
                     "--models-dir", os.path.join(ROOT, "models"), "--log-level", "info"]
        self.env = dict(os.environ, TESTBED_ADMIN_KEY=admin)
        self.process = None

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.args, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        if wait:
            deadline = time.time() + 60
            while time.time() < deadline:
                if self.process.poll() is not None:
                    raise Failure(f"replica {self.index} exited ({self.process.returncode}):\n{self.tail()}")
                try:
                    if request(self.port, "GET", "/v2/health/ready", timeout=2)[0] == 200:
                        return
                except OSError:
                    pass
                time.sleep(0.1)
            raise Failure(f"replica {self.index} did not become ready:\n{self.tail()}")

    def tail(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-3000:]

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_nginx(replicas, workdir):
    port = free_port()
    with open(os.path.join(ROOT, "deploy/nginx/testbed.conf")) as f:
        template = f.read()
    upstreams = "\n".join(f"        server 127.0.0.1:{r.port} max_fails=1 fail_timeout=2s;" for r in replicas)
    conf = template.replace("@DIR@", workdir).replace("@PORT@", str(port)).replace("@UPSTREAMS@", upstreams)
    path = os.path.join(workdir, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run([nginx, "-t", "-c", path, "-p", workdir], check=True, capture_output=True)
    process = subprocess.Popen([nginx, "-c", path, "-p", workdir, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            if request(port, "GET", "/v2/health/live", timeout=2)[0] == 200:
                return process, port
        except OSError:
            time.sleep(0.1)
    raise Failure("nginx did not start")


def psql(database, sql):
    return subprocess.run(["psql", database, "-Atc", sql], check=True, capture_output=True, text=True).stdout.strip()


def wait_for(what, check, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise Failure(f"{what}: not within {seconds} s")


def predict(port, key, model):
    status, body, _ = request(port, "POST", f"/api/v1/models/{model}/predict", key, {"rows": [SERVO_ROW]})
    return status, (body["predictions"][0]["prediction"] if status == 200 else body)


def main():
    testbed, database, pg_dir = sys.argv[1:4]
    workdir = tempfile.mkdtemp(prefix="testbed-cluster-")
    storage = os.path.join(workdir, "storage")
    replicas = [Replica(testbed, i, storage, database, workdir) for i in range(3)]
    nginx = None
    try:
        print("three replicas on one database and one storage root, nginx in front")
        for replica in replicas:
            replica.start()
        nginx, lb = start_nginx(replicas, workdir)

        print("the pilot flow through nginx")
        status, issued, _ = request(lb, "POST", "/api/v1/tenants", ADMIN, {"id": "sawmill", "display_name": "Sawmill"})
        expect(status == 201, f"tenant created ({status})")
        key = issued["api_key"]
        # The key works on every replica at once, whichever one issued it.
        expect(all(request(r.port, "GET", "/api/v1/me", key)[0] == 200 for r in replicas), "the new key works on every replica at once")
        with open(os.path.join(ROOT, "datasets/Servo.csv"), "rb") as f:
            servo = f.read()
        status, dataset, _ = request(lb, "POST", "/api/v1/datasets?name=servo", key, raw=servo, content_type="text/csv")
        expect(status == 201, f"dataset uploaded ({status})")
        status, job, _ = request(lb, "POST", "/api/v1/jobs", key, {"dataset": dataset["id"], "target": "Class", "algorithms": "auto",
                                                                    "time_budget_seconds": 4, "model_name": "servo"})
        expect(status == 202, f"auto job accepted ({status})")
        done = wait_for("the auto job finishing", lambda: (lambda j: j if j["state"] not in ("queued", "running") else None)(
            request(lb, "GET", f"/api/v1/jobs/{job['id']}", key)[1]), 120)
        expect(done["state"] == "succeeded", f"auto job succeeded ({done['state']}: {done.get('error')})")
        answers = [predict(r.port, key, "servo") for r in replicas]
        expect(all(a[0] == 200 for a in answers) and len({a[1] for a in answers}) == 1,
               f"every replica predicts the same: {answers[0][1]}")
        v2 = {"inputs": [{"name": n, "shape": [1], "datatype": "BYTES" if isinstance(v, str) else "FP64", "data": [v]} for n, v in SERVO_ROW.items()]}
        status, inferred, _ = request(lb, "POST", "/v2/models/servo/infer", key, v2)
        expect(status == 200 and abs(inferred["outputs"][0]["data"][0] - answers[0][1]) < 1e-9, "V2 inference through nginx agrees")
        status, whatif, _ = request(lb, "POST", "/api/v1/models/servo/whatif", key, {"row": SERVO_ROW, "feature": "Pgain", "values": [3, 4, 5, 6]})
        expect(status == 200, f"what-if through nginx ({status})")

        # Chicago's auto search uses its whole budget: a job that is surely still running.
        with open(os.path.join(ROOT, "datasets/Chicago.csv"), "rb") as f:
            status, chicago, _ = request(lb, "POST", "/api/v1/datasets?name=chicago", key, raw=f.read(), content_type="text/csv")
        expect(status == 201, f"a larger dataset uploaded ({status})")
        long_training = {"dataset": chicago["id"], "target": "ridership", "algorithms": "auto", "time_budget_seconds": 120}

        print("cancel through another replica than the one running the job")
        status, long_job, _ = request(replicas[0].port, "POST", "/api/v1/jobs", key, dict(long_training, model_name="ridership-long"))
        wait_for("the long job running", lambda: request(lb, "GET", f"/api/v1/jobs/{long_job['id']}", key)[1]["state"] == "running", 30)
        owner = psql(database, f"SELECT lease_owner FROM job WHERE id = '{long_job['id']}'")
        runner = next(r for r in replicas if owner.split("-")[-2] == str(r.process.pid))
        other = next(r for r in replicas if r is not runner)
        status, _, _ = request(other.port, "POST", f"/api/v1/jobs/{long_job['id']}/cancel", key)
        expect(status == 202, "cancel accepted by a replica that does not run the job")
        ended = wait_for("the cancelled job ending", lambda: (lambda j: j if j["state"] != "running" else None)(
            request(lb, "GET", f"/api/v1/jobs/{long_job['id']}", key)[1]), 15)
        expect(ended["state"] == "cancelled", f"the job was cancelled on the replica running it ({ended['state']})")

        print("kill -9 the replica that is training")
        status, doomed, _ = request(lb, "POST", "/api/v1/jobs", key, dict(long_training, model_name="ridership-doomed"))
        wait_for("the job running", lambda: request(lb, "GET", f"/api/v1/jobs/{doomed['id']}", key)[1]["state"] == "running", 30)
        owner = psql(database, f"SELECT lease_owner FROM job WHERE id = '{doomed['id']}'")
        victim = next(r for r in replicas if owner.split("-")[-2] == str(r.process.pid))
        datasets_before = request(lb, "GET", "/api/v1/datasets", key)[1]
        models_before = {m["name"] for m in request(lb, "GET", "/api/v1/models", key)[1]}
        jobs_before = {j["id"]: j["state"] for j in request(lb, "GET", "/api/v1/jobs", key)[1] if j["id"] != doomed["id"]}
        victim.kill()
        began = time.time()
        interrupted = wait_for("the dead replica's job marked interrupted", lambda: (lambda j: j if j["state"] == "interrupted" else None)(
            request(lb, "GET", f"/api/v1/jobs/{doomed['id']}", key)[1]), 40)
        expect(True, f"marked interrupted by a surviving replica after {time.time() - began:.1f} s: {interrupted['message']}")
        expect(request(lb, "GET", "/api/v1/datasets", key)[1] == datasets_before, "no acknowledged dataset lost")
        expect(models_before <= {m["name"] for m in request(lb, "GET", "/api/v1/models", key)[1]}, "no acknowledged model lost")
        jobs_after = {j["id"]: j["state"] for j in request(lb, "GET", "/api/v1/jobs", key)[1]}
        expect(all(jobs_after.get(i) == state for i, state in jobs_before.items()), "no other job lost or changed")
        status, again, _ = request(lb, "POST", "/api/v1/jobs", key, {"dataset": chicago["id"], "target": "ridership", "algorithms": "ridge",
                                                                     "model_name": "ridership-doomed"})
        rerun = wait_for("the job run again", lambda: (lambda j: j if j["state"] not in ("queued", "running") else None)(
            request(lb, "GET", f"/api/v1/jobs/{again['id']}", key)[1]), 60)
        expect(rerun["state"] == "succeeded", "the job created again succeeds on a surviving replica")
        victim.start()
        expect(predict(victim.port, key, "servo")[1] == answers[0][1], "the restarted replica serves the same prediction")

        print("PostgreSQL restarted")
        subprocess.run([os.path.join(ROOT, "scripts/postgres.sh"), "pause", pg_dir], check=True, capture_output=True)
        status, body, headers = request(lb, "GET", "/api/v1/datasets", key)
        expect(status == 503 and "Retry-After" in headers, f"a route that needs the database answers 503 with Retry-After ({status}: {body})")
        expect(all(predict(r.port, key, "servo")[1] == answers[0][1] for r in replicas), "loaded models keep predicting without the database")
        subprocess.run([os.path.join(ROOT, "scripts/postgres.sh"), "resume", pg_dir], check=True, capture_output=True)
        began = time.time()
        wait_for("the database routes back", lambda: request(lb, "GET", "/api/v1/datasets", key)[0] == 200, 30)
        expect(True, f"answered again {time.time() - began:.1f} s after PostgreSQL was back")
        expect(all(request(r.port, "GET", "/api/v1/datasets", key)[0] == 200 for r in replicas), "every replica reconnected by itself")

        print("a model deleted through one replica")
        status, _, _ = request(replicas[0].port, "DELETE", "/api/v1/models/servo", key)
        expect(status == 204, "deleted through replica 0")
        began = time.time()
        wait_for("the others to stop serving it", lambda: all(predict(r.port, key, "servo")[0] == 404 for r in replicas[1:]), 2)
        expect(True, f"the other replicas answer 404 after {time.time() - began:.2f} s")

        print("a key revoked through one replica")
        status, second, _ = request(replicas[1].port, "POST", "/api/v1/tenants/sawmill/keys", ADMIN)
        expect(request(replicas[2].port, "GET", "/api/v1/me", second["api_key"])[0] == 200, "a key issued through replica 1 works on replica 2")
        request(replicas[1].port, "DELETE", f"/api/v1/tenants/sawmill/keys/{second['key_id']}", ADMIN)
        wait_for("the revocation reaching every replica", lambda: all(request(r.port, "GET", "/api/v1/me", second["api_key"])[0] == 401 for r in replicas), 2)
        expect(True, "the revoked key is refused by every replica within a second")

        print("a replica with another admin key")
        stranger = Replica(testbed, 9, storage, database, workdir, admin="another-admin-key")
        stranger.start(wait=False)
        stranger.process.wait(timeout=30)
        expect(stranger.process.returncode != 0 and "admin key is not the one" in stranger.tail(), "refused at start, saying why")
        print("cluster test passed")
    except Exception:
        for replica in replicas:
            print(f"--- replica {replica.index} log (end) ---\n{replica.tail() if os.path.exists(replica.log_path) else ''}", file=sys.stderr)
        raise
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        for replica in replicas:
            replica.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
