#!/usr/bin/env bash
# Make sure .venv (or the directory given) is a working Python 3.11 virtualenv.
#
# Uses python3.11, or python3 when that is 3.11. On Debian, `python3 -m venv` fails while the
# python3.X-venv package (ensurepip) is missing: it is then installed and the venv made again.
# A venv whose interpreter no longer runs (moved, or made on another machine) is made anew.
set -euo pipefail

venv=${1:-.venv}
here=$(cd "$(dirname "$0")" && pwd)

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null \
        && [ -x "$venv/bin/pip" ]; then
    exit 0
fi

python=
for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
        python=$(command -v "$candidate")
        break
    fi
done
if [ -z "$python" ]; then
    echo "venv: Python 3.11 is needed (python3.11, or python3 being 3.11); on Debian 12: apt-get install python3" >&2
    exit 1
fi

rm -rf "$venv"
if ! "$python" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    echo "venv: '$python -m venv' failed (ensurepip missing?); installing python3.11-venv"
    "$here/ensure-debian-packages.sh" python3.11-venv
    "$python" -m venv "$venv"
fi
echo "venv: created $venv with $("$venv/bin/python" --version)"
