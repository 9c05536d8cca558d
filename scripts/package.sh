#!/usr/bin/env bash
# Builds the release bundle: .build-bundle/dist/testbed-<version>-linux-<arch>.tar.gz, a folder with
#   bin/testbed (release, --static-swift-stdlib, SQLite linked in), bin/<its resources> (the dashboard),
#   models/ (the demonstration models), systemd/ (unit and settings file), README.md, VERSION.
# It needs no Swift on the machine it runs on, only Debian's libopenblas0 beyond a minimal Debian:
# scripts/bundle-test.sh proves that in a debootstrapped chroot. The build has its own scratch path
# (.build-bundle), so .build is left alone. Prints the tarball's path as its last line. dist/ holds
# only tarballs: it is the container image's build context (deploy/Containerfile).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

OUT=.build-bundle
VERSION="$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/InferenceCore/Support/Version.swift)"
[ -n "$VERSION" ] || { echo "error: no version in Sources/InferenceCore/Support/Version.swift" >&2; exit 1; }
ARCH="$(dpkg --print-architecture 2>/dev/null || uname -m)"
NAME="testbed-$VERSION-linux-$ARCH"
mkdir -p "$OUT"

# SQLite linked statically, so that the bundle needs no libsqlite3-0 (not in a minimal Debian):
# GRDB links `sqlite3`, and the linker takes the first libsqlite3.* on its search path; a folder
# holding only Debian's libsqlite3.a (from libsqlite3-dev) is searched before the system's.
SQLITE_A="$(find /usr/lib /usr/lib64 -name libsqlite3.a -print -quit 2>/dev/null || true)"
if [ -z "$SQLITE_A" ]; then
    echo "Installing libsqlite3-dev (its libsqlite3.a is linked into the bundle)..." >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libsqlite3-dev >/dev/null
    SQLITE_A="$(find /usr/lib /usr/lib64 -name libsqlite3.a -print -quit)"
fi
mkdir -p "$OUT/static-libs"
ln -sfn "$SQLITE_A" "$OUT/static-libs/libsqlite3.a"

start=$(date +%s)
BUILD=(swift build -c release --static-swift-stdlib --product testbed --scratch-path "$OUT"
       -Xlinker -L"$PWD/$OUT/static-libs")
"${BUILD[@]}" >&2
# SwiftPM's link to the release folder; asking it (--show-bin-path) would plan the build again.
BIN="$OUT/release"
[ -x "$BIN/testbed" ] || BIN="$("${BUILD[@]}" --show-bin-path)"
echo "package: build took $(( $(date +%s) - start )) s" >&2

# What the executable still loads: OpenBLAS (and what it brings) and the C/C++ runtime of any
# Debian. Anything else (Swift's runtime, SQLite, a library not found) fails the package.
LDD="$(ldd "$BIN/testbed")"
echo "$LDD" >&2
ALLOWED='^(linux-vdso|ld-linux[-a-z0-9_]*|libc|libm|libdl|libpthread|librt|libutil|libstdc\+\+|libgcc_s|libz|libopenblas|libgfortran|libquadmath)\.'
UNEXPECTED="$(echo "$LDD" | awk '{print $1}' | sed 's|.*/||' | grep -Ev "$ALLOWED" || true)"
if [ -n "$UNEXPECTED" ] || echo "$LDD" | grep -q "not found"; then
    echo "error: the executable needs libraries a minimal Debian with libopenblas0 does not have:" >&2
    echo "$UNEXPECTED" >&2
    exit 1
fi

STAGE="$OUT/stage/$NAME"
rm -rf "$OUT/stage" && mkdir -p "$STAGE/bin" "$STAGE/models" "$STAGE/systemd"
# Debug information out (the symbol table stays, for backtraces): about a third of the size.
strip --strip-debug -o "$STAGE/bin/testbed" "$BIN/testbed"
# Bundle.module finds the dashboard in <executable's folder>/<package>_<target>.resources.
RESOURCES="$(basename "$(ls -d "$BIN"/*_TestbedServer.resources)")"
cp -R "$BIN/$RESOURCES" "$STAGE/bin/$RESOURCES"
[ -f "$STAGE/bin/$RESOURCES/site/index.html" ] || { echo "error: no dashboard in $BIN/$RESOURCES" >&2; exit 1; }
cp models/*.json models/*.md "$STAGE/models/"
cp deploy/bundle/testbed.service deploy/bundle/testbed.env "$STAGE/systemd/"
cp deploy/bundle/README.md "$STAGE/README.md"
COMMIT="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
if [ "$COMMIT" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then COMMIT="$COMMIT (with uncommitted changes)"; fi
{
    echo "testbed $VERSION"
    echo "commit: $COMMIT"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME") $ARCH"
    echo "compiler: $(swift --version 2>/dev/null | head -1)"
    echo "needs: libopenblas0 (Debian), beyond a minimal Debian"
    echo "ldd bin/testbed:"
    echo "$LDD" | sed 's/ (0x[0-9a-f]*)//; s/^\s*/  /'
} > "$STAGE/VERSION"
chmod -R u=rwX,go=rX "$STAGE"

mkdir -p "$OUT/dist"
TARBALL="$OUT/dist/$NAME.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$OUT/stage" -czf "$TARBALL.tmp" "$NAME"
mv "$TARBALL.tmp" "$TARBALL"
echo "package: $(du -h "$TARBALL" | cut -f1) $TARBALL (unpacked $(du -sh "$STAGE" | cut -f1))" >&2
echo "$TARBALL"
