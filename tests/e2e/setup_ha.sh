#!/usr/bin/env bash
# Install the Home Assistant that the end-to-end tests start, into its own venv (.venv-ha by
# default; AppDaemon's pins clash with Home Assistant's). Idempotent: when the venv was built from
# the current requirements-e2e.txt it returns at once, so ./run.sh test can call it every time.
#   bash tests/e2e/setup_ha.sh          PYTHON=python3.12 and LJ_E2E_HA_VENV=DIR override defaults
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
VENV=${LJ_E2E_HA_VENV:-.venv-ha}
REQUIREMENTS=requirements-e2e.txt
STAMP="$VENV/.requirements-e2e.sha256"

want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ -x "$VENV/bin/hass" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    echo "setup_ha: $VENV is up to date"
    exit 0
fi

if ! "$PYTHON" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))'; then
    echo "setup_ha: Home Assistant 2024.3 needs Python 3.11 or 3.12; $PYTHON is $("$PYTHON" -V 2>&1)" >&2
    exit 1
fi

start=$(date +%s)
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS"
"$VENV/bin/hass" --version >/dev/null
echo "$want" >"$STAMP"
echo "setup_ha: installed Home Assistant into $VENV in $(($(date +%s) - start)) s"
