#!/usr/bin/env bash
# Install the given Debian packages, only those not installed yet (checked with dpkg -s).
#
#   scripts/ensure-debian-packages.sh python3.11-venv
#   scripts/ensure-debian-packages.sh postgresql chromium dovecot-imapd
#
# Runs apt-get as root, or through sudo when it is available; refreshes the package lists only
# when a missing package has no install candidate or the first install attempt fails (stale lists).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 PACKAGE..." >&2
    exit 2
fi

missing=()
for package in "$@"; do
    # what `dpkg -s` reports as Status, without a pipe that could break on SIGPIPE
    if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-debian-packages: missing ${missing[*]} and apt-get is not available: install them by hand" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "ensure-debian-packages: missing ${missing[*]}: run as root or install sudo" >&2
    exit 1
fi

apt_get() {
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 "$@"
}

needs_update=0
for package in "${missing[@]}"; do
    candidate=$(apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
        needs_update=1
    fi
done

echo "ensure-debian-packages: installing ${missing[*]}"
if [ "$needs_update" -eq 1 ]; then
    apt_get update
fi
if ! apt_get install --no-install-recommends "${missing[@]}"; then
    echo "ensure-debian-packages: install failed; refreshing the package lists and retrying" >&2
    apt_get update
    apt_get install --no-install-recommends "${missing[@]}"
fi
