#!/usr/bin/env bash
# Proof that the release bundle runs on a machine without Swift: a minimal Debian made with
# debootstrap (--variant=minbase, the release and architecture of this machine, only libopenblas0
# added), the bundle unpacked into its /opt/testbed, `testbed serve` run there in a chroot as an
# unprivileged user on a loopback port, then checked over HTTP: health, the dashboard, a tenant, a
# prediction from a demonstration model through the Open Inference Protocol and the pilot API (the
# same number), an upload profiled and a model trained in worker processes, and a clean stop on
# SIGTERM. Any failed check fails the script.
#
#   scripts/bundle-test.sh [BUNDLE.tar.gz]   # default: builds it with scripts/package.sh
#   scripts/bundle-test.sh --chroot-only     # only makes (or checks) the cached chroot
#
# Needs root (debootstrap, chroot, mount) and Debian's mirror the first time; the chroot is kept in
# .build-bundle/debian-<release>-<arch> and reused (delete it to start again). DEBIAN_MIRROR
# overrides the mirror (default: deb.debian.org).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "bundle-test: $*" >&2; }
fail() { echo "bundle-test: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot and mounting /proc)"

OUT="$PWD/.build-bundle"
CODENAME="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
[ -n "$CODENAME" ] || fail "no VERSION_CODENAME in /etc/os-release: not a Debian this script knows"
ARCH="$(dpkg --print-architecture)"
ROOT="$OUT/debian-$CODENAME-$ARCH"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$OUT"
timer=$(date +%s)
lap() { local now; now=$(date +%s); say "$1 took $(( now - timer )) s"; timer=$now; }

# --- the minimal Debian, cached ---------------------------------------------------------------
# Unmounts what a killed earlier run (ours, or debootstrap's own mounts) may have left inside the
# chroot or its half-made predecessor, before anything there is deleted.
unmount_inside() {
    local mounted
    for mounted in $(awk -v root="$ROOT/" -v tmp="$ROOT.tmp/" 'index($2, root) == 1 || index($2, tmp) == 1 {print $2}' /proc/mounts | sort -r); do
        umount -l "$mounted" 2>/dev/null || true
    done
}
unmount_inside
if [ ! -f "$ROOT/.bundle-test-ready" ]; then
    command -v debootstrap >/dev/null || {
        say "installing debootstrap"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
    say "making a minimal Debian $CODENAME ($ARCH) with libopenblas0 in $ROOT (from $MIRROR)"
    rm -rf "$ROOT" "$ROOT.tmp"
    if ! debootstrap --variant=minbase --include=libopenblas0 "$CODENAME" "$ROOT.tmp" "$MIRROR" > "$OUT/debootstrap.log" 2>&1; then
        tail -20 "$OUT/debootstrap.log" >&2
        [ -f "$ROOT.tmp/debootstrap/debootstrap.log" ] && tail -20 "$ROOT.tmp/debootstrap/debootstrap.log" >&2
        fail "debootstrap failed (log: $OUT/debootstrap.log)"
    fi
    # An unprivileged user to run the server as, as the systemd unit does.
    chroot "$ROOT.tmp" useradd --system --user-group --home-dir /var/lib/testbed --shell /usr/sbin/nologin testbed
    chroot "$ROOT.tmp" apt-get clean
    chroot "$ROOT.tmp" dpkg-query -W -f '${Package} ${Version}\n' > "$ROOT.tmp/.bundle-test-ready"
    mv "$ROOT.tmp" "$ROOT"
    lap "debootstrap"
else
    say "reusing the minimal Debian in $ROOT"
fi
# The chroot must have no Swift and no SQLite, or the test proves nothing.
for package in swiftlang libsqlite3-0 libopenblas-dev; do
    ! grep -q "^$package " "$ROOT/.bundle-test-ready" || fail "the chroot has $package installed"
done
grep -q "^libopenblas0 " "$ROOT/.bundle-test-ready" || fail "the chroot has no libopenblas0"
[ ! -e "$ROOT/opt/swift" ] && [ ! -e "$ROOT/usr/bin/swift" ] || fail "the chroot has a Swift toolchain"
[ -c "$ROOT/dev/null" ] && [ -c "$ROOT/dev/urandom" ] || fail "the chroot has no /dev/null or /dev/urandom (debootstrap could not make devices)"
[ "${1:-}" = "--chroot-only" ] && { say "chroot ready ($(wc -l < "$ROOT/.bundle-test-ready") packages)"; exit 0; }

# --- the bundle ---------------------------------------------------------------------------------
if [ -n "${1:-}" ]; then
    BUNDLE="$1"
else
    BUNDLE="$(scripts/package.sh | tail -1)"
    lap "scripts/package.sh"
fi
[ -f "$BUNDLE" ] || fail "no bundle at $BUNDLE"
rm -rf "$ROOT/opt/testbed" && mkdir -p "$ROOT/opt/testbed"
tar -xzf "$BUNDLE" -C "$ROOT/opt/testbed" --strip-components=1
say "unpacked $(basename "$BUNDLE") ($(du -h "$BUNDLE" | cut -f1)) into $ROOT/opt/testbed"

SERVER=""
LOG="$OUT/bundle-test-server.log"
cleanup() {
    if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then kill -KILL "$SERVER" 2>/dev/null || true; fi
    # Workers of a server killed above, by their root directory (nothing else runs in the chroot).
    local pid
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$ROOT" ] && kill -KILL "$pid" 2>/dev/null || true
    done
    unmount_inside
}
trap cleanup EXIT
# Worker processes start /proc/self/exe: the chroot needs /proc.
mount -t proc proc "$ROOT/proc"

# Every library resolved inside the chroot, none missing.
LDD="$(chroot "$ROOT" ldd /opt/testbed/bin/testbed)" || fail "ldd in the chroot failed"
echo "$LDD" | sed 's/^/  /' >&2
! echo "$LDD" | grep -q "not found" || fail "libraries missing in the minimal Debian"
chroot --userspec=testbed:testbed "$ROOT" /opt/testbed/bin/testbed --help > /dev/null || fail "testbed --help failed in the chroot"

# The bundle's systemd unit, with its paths pointed into the chroot: systemd-analyze says nothing
# about a sound unit (an unknown directive or a bad value is a warning, and fails here).
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$OUT/unit-check"
    sed "s|/opt/testbed/|$ROOT/opt/testbed/|g" "$ROOT/opt/testbed/systemd/testbed.service" > "$OUT/unit-check/testbed.service"
    UNIT_CHECK="$(systemd-analyze verify "$OUT/unit-check/testbed.service" 2>&1)" || true
    [ -z "$UNIT_CHECK" ] || { echo "$UNIT_CHECK" >&2; fail "systemd-analyze verify found problems in systemd/testbed.service"; }
    say "ok: systemd-analyze verify systemd/testbed.service"
else
    say "systemd-analyze not found: the unit is not verified"
fi

# --- run it as the systemd unit would -----------------------------------------------------------
DATA=/var/lib/testbed-bundle-test
rm -rf "${ROOT:?}$DATA" && install -d -m 0700 -o "$(chroot "$ROOT" id -u testbed)" -g "$(chroot "$ROOT" id -g testbed)" "$ROOT$DATA"
ADMIN="tb_admin_bundle_test_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$DATA" TESTBED_ADMIN_KEY="$ADMIN" \
    chroot --userspec=testbed:testbed "$ROOT" \
    /opt/testbed/bin/testbed serve --host 127.0.0.1 --port 0 --data-dir "$DATA" --models-dir /opt/testbed/models \
    > "$LOG" 2>&1 &
SERVER=$!
PORT=""
for _ in $(seq 1 300); do
    PORT="$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$LOG" | head -1)"
    [ -n "$PORT" ] && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; fail "the server exited at start"; }
    sleep 0.1
done
[ -n "$PORT" ] || { cat "$LOG" >&2; fail "the server did not log its port within 30 s"; }
URL="http://127.0.0.1:$PORT"
lap "start (port $PORT)"

# check NAME EXPECTED_STATUS CURL_ARGS...: the body in $BODY; fails unless the status matches.
check() {
    local name="$1" expected="$2" status; shift 2
    status="$(curl -sS -o "$OUT/bundle-test-body" -w '%{http_code}' --max-time 120 "$@")" || { cat "$LOG" >&2; fail "$name: curl failed"; }
    BODY="$(cat "$OUT/bundle-test-body")"
    [ "$status" = "$expected" ] || { echo "$BODY" >&2; tail -20 "$LOG" >&2; fail "$name: HTTP $status, expected $expected"; }
    [ -n "${QUIET:-}" ] || say "ok: $name"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1" <<< "$BODY"; }

check "GET /v2/health/live" 200 "$URL/v2/health/live"
# The container image's HEALTHCHECK, the very command of deploy/Containerfile, run in the chroot
# (bash, no curl) as the server's user.
HEALTHCHECK="$(python3 - deploy/Containerfile <<'PYTHON'
import json, re, sys
text = re.sub(r"\\\n", " ", open(sys.argv[1]).read())
line = next(l for l in text.splitlines() if l.startswith("HEALTHCHECK "))
command = json.loads(line.split(" CMD ", 1)[1])
assert command[:2] == ["bash", "-c"], command
print(command[2])
PYTHON
)" || fail "no HEALTHCHECK CMD [\"bash\", \"-c\", ...] in deploy/Containerfile"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TESTBED_PORT="$PORT" chroot --userspec=testbed:testbed "$ROOT" bash -c "$HEALTHCHECK" \
    || fail "the Containerfile's HEALTHCHECK failed against the running server"
say "ok: the Containerfile's HEALTHCHECK"
check "GET /v2/health/ready" 200 "$URL/v2/health/ready"
check "GET / (the dashboard, from the bundle's resources)" 200 "$URL/"
grep -qi "<html" <<< "$BODY" || fail "GET / is not the dashboard's page"
check "GET /v2/models/servo-rise-time with no key" 401 "$URL/v2/models/servo-rise-time"
check "POST /api/v1/tenants (admin key)" 201 -H "Authorization: Bearer $ADMIN" "$URL/api/v1/tenants" \
    -d '{"id": "bundle-test", "display_name": "Bundle test"}'
KEY="$(json "d['api_key']")"
AUTH="Authorization: Bearer $KEY"
check "GET /v2/models/servo-rise-time/ready" 200 -H "$AUTH" "$URL/v2/models/servo-rise-time/ready"
check "POST /v2/models/servo-rise-time/infer" 200 -H "$AUTH" "$URL/v2/models/servo-rise-time/infer" -d '{"id": "1", "inputs": [
    {"name": "Motor", "shape": [1], "datatype": "BYTES", "data": ["E"]},
    {"name": "Screw", "shape": [1], "datatype": "BYTES", "data": ["E"]},
    {"name": "Pgain", "shape": [1], "datatype": "FP64", "data": [5]},
    {"name": "Vgain", "shape": [1], "datatype": "FP64", "data": [4]}]}'
V2="$(json "[o for o in d['outputs'] if o['name'] == 'predict'][0]['data'][0]")"
check "POST /api/v1/models/servo-rise-time/predict" 200 -H "$AUTH" "$URL/api/v1/models/servo-rise-time/predict" \
    -d '{"rows": [{"Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4}]}'
PILOT="$(json "d['predictions'][0]['prediction']")"
python3 -c "import math,sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(0 if math.isfinite(a) and 0 < a < 10 and a == b else 1)" "$V2" "$PILOT" \
    || fail "the servo prediction is $V2 over V2 and $PILOT over the pilot API (expected the same finite rise time in (0, 10))"
say "ok: servo-rise-time predicts $V2 by both routes"
lap "health and predictions"

# Worker processes (a child of /proc/self/exe, under limits): profile an upload, train a model.
check "POST /api/v1/datasets (profiled by a worker)" 201 -H "$AUTH" -H 'Content-Type: text/csv' \
    --data-binary @datasets/Servo.csv "$URL/api/v1/datasets?name=servo"
DATASET="$(json "d['id']")"
WORKERS=0
for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$ROOT" ] || continue
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "testbed worker" && WORKERS=$((WORKERS + 1))
done
[ "$WORKERS" -ge 1 ] || fail "no worker process runs in the chroot (they start /proc/self/exe)"
say "ok: $WORKERS worker processes run in the chroot"
check "POST /api/v1/jobs (ridge)" 202 -H "$AUTH" "$URL/api/v1/jobs" \
    -d "{\"dataset\": \"$DATASET\", \"target\": \"Class\", \"model_name\": \"servo-bundle\", \"algorithms\": \"ridge\"}"
JOB="$(json "d['id']")"
STATE=""
for _ in $(seq 1 240); do
    QUIET=1 check "GET /api/v1/jobs/$JOB" 200 -H "$AUTH" "$URL/api/v1/jobs/$JOB"
    STATE="$(json "d['state']")"
    case "$STATE" in succeeded|failed|cancelled|interrupted) break ;; esac
    sleep 0.5
done
[ "$STATE" = succeeded ] || { echo "$BODY" >&2; fail "the training job ended $STATE"; }
check "POST /api/v1/models/servo-bundle/predict (the model just trained)" 200 -H "$AUTH" \
    "$URL/api/v1/models/servo-bundle/predict" -d '{"rows": [{"Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4}]}'
lap "upload and training"

# --- a clean stop -------------------------------------------------------------------------------
kill -TERM "$SERVER"
STATUS=0
for _ in $(seq 1 300); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVER" 2>/dev/null && fail "the server did not stop within 30 s of SIGTERM"
wait "$SERVER" || STATUS=$?
SERVER=""
[ "$STATUS" -eq 0 ] || { tail -20 "$LOG" >&2; fail "the server exited with status $STATUS after SIGTERM"; }
for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$ROOT" ] && fail "a process is still running in the chroot after the stop: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
done
# The HEALTHCHECK must also say so when nothing answers.
! env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TESTBED_PORT="$PORT" chroot --userspec=testbed:testbed "$ROOT" bash -c "$HEALTHCHECK" 2>/dev/null \
    || fail "the Containerfile's HEALTHCHECK passed with the server stopped"
if grep -q '"level":"\(error\|critical\)"' "$LOG"; then grep '"level":"\(error\|critical\)"' "$LOG" >&2; fail "the server logged errors"; fi
lap "stop"
say "passed: the bundle runs in a minimal Debian $CODENAME with only libopenblas0 added (server log: $LOG)"
