#!/usr/bin/env bash
# Offline checks of the deployment files (docs/deploy.md), in a virtual environment from PyPI
# (.venv-deploy, made when missing or when deploy/requirements-validate.txt changed):
# - deploy/kubernetes/*.yaml: kubernetes-validate --strict (unknown fields fail) against the
#   schemas of Kubernetes 1.33 and 1.37; every document must be a kind it knows.
# - deploy/kubernetes/kserve/*.yaml: against the openAPIV3Schema of KServe's CRDs in
#   ../shared/specs/kserve (KSERVE_SPECS overrides), closed to undeclared fields, with the values
#   KServe checks (scripts/check_kserve_manifests.py); its self-test proves typos are caught.
# - deploy/Containerfile and the manifests name the version of Sources/InferenceCore/Support/Version.swift.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "validate-deploy: $*" >&2; }
fail() { echo "validate-deploy: FAILED: $*" >&2; exit 1; }
start=$(date +%s)

VENV=.venv-deploy
REQUIREMENTS=deploy/requirements-validate.txt
STAMP="$VENV/.requirements.sha256"
if [ ! -x "$VENV/bin/python" ] || ! sha256sum -c --status "$STAMP" 2>/dev/null; then
    say "making $VENV from PyPI"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$REQUIREMENTS"
    "$VENV/bin/pip" check >/dev/null || fail "$VENV: $("$VENV/bin/pip" check)"
    sha256sum "$REQUIREMENTS" > "$STAMP"
fi
# --prepare: only the environment (scripts/test.sh makes it while the Swift tests run).
[ "${1:-}" = --prepare ] && exit 0

# The core kinds.
for version in 1.33 1.37; do
    OUTPUT="$("$VENV/bin/kubernetes-validate" --strict -k "$version" deploy/kubernetes/*.yaml 2>&1)" \
        || { echo "$OUTPUT" >&2; fail "kubernetes-validate (Kubernetes $version)"; }
    if grep -v '^INFO ' <<< "$OUTPUT" | grep -q .; then echo "$OUTPUT" >&2; fail "kubernetes-validate warned (Kubernetes $version): not a core kind?"; fi
    say "ok: $(grep -c '^INFO .* passed' <<< "$OUTPUT") core resources, Kubernetes $version, strict"
done

# KServe's kinds.
SPECS="${KSERVE_SPECS:-../shared/specs/kserve}"
[ -d "$SPECS" ] || fail "no KServe CRD files at $SPECS (set KSERVE_SPECS)"
"$VENV/bin/python" scripts/check_kserve_manifests.py --specs "$SPECS" --self-test deploy/kubernetes/kserve/*.yaml >&2 \
    || fail "KServe manifests"

# One version everywhere.
VERSION="$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/InferenceCore/Support/Version.swift)"
grep -q "^ARG VERSION=$VERSION\$" deploy/Containerfile || fail "deploy/Containerfile's ARG VERSION is not $VERSION (Version.swift)"
for image in $(grep -ho 'image: [^ ]*' deploy/kubernetes/*.yaml deploy/kubernetes/kserve/*.yaml | cut -d' ' -f2); do
    [ "${image##*:}" = "$VERSION" ] || fail "image $image is not tagged $VERSION (Version.swift)"
done
say "ok: Containerfile and manifests name version $VERSION"
say "passed in $(( $(date +%s) - start )) s"
