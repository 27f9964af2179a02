#!/usr/bin/env bash
# Installs the Debian packages given that are not installed yet (with sudo when not root).
# Used by `make test` (redis-server, and OpenSSL's headers for the Sentry client's TLS) and by
# scripts/build-adapters.sh (Debian's Rust for the wasm guests).
#
# Usage: scripts/apt-install.sh package...
set -euo pipefail

die() { echo "apt-install: error: $*" >&2; exit 1; }

if ! command -v dpkg >/dev/null 2>&1; then
    echo "==> apt-install: not a Debian system; make sure these are installed: $*" >&2
    exit 0
fi

missing=()
for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "==> installing Debian packages: ${missing[*]}" >&2
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${missing[*]} by hand"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "installing ${missing[*]} needs root (no sudo found)"
    SUDO=(sudo)
fi
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update || die "apt-get update failed"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
