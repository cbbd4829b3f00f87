#!/usr/bin/env bash
# Install the Home Assistant that the end-to-end tests start, into its own venv (AppDaemon's pins
# clash with Home Assistant's). Which release, on which Python, in which venv is chosen by
# tests/e2e/ha_target.py: Home Assistant 2025.4.4 on Python 3.13 (.venv-ha-2025, from
# tests/e2e/requirements-ha-2025.txt) when the machine has a 3.13 (pyenv, python3.13 on PATH),
# else 2024.3.3 on 3.11/3.12 (.venv-ha, from requirements-e2e.txt). Idempotent: when the venv was
# built from the current requirements on the chosen Python it returns at once, so ./run.sh test can
# call it every time.
#   bash tests/e2e/setup_ha.sh
#   PYTHON_HA=/path/to/python    that Python (its version picks the release)
#   LJ_HA_VERSION=2024.3.3       that release (2025.4.4 or 2024.3.3)
#   LJ_E2E_HA_VENV=DIR           another venv (the tests read it too)
set -euo pipefail
cd "$(dirname "$0")/../.."

target=$(python3 tests/e2e/ha_target.py --shell)
eval "$target"
echo "setup_ha: $LJ_HA_DESCRIBE"

VENV=$LJ_HA_VENV
STAMP="$VENV/.requirements-e2e.sha256"
want=$(sha256sum "$LJ_HA_REQUIREMENTS" | cut -d' ' -f1)
have_python() {
    [ -x "$VENV/bin/python" ] &&
        [ "$("$VENV/bin/python" -c 'import sys; print(*sys.version_info[:2], sep=".")')" = \
            "${LJ_HA_PYTHON_VERSION%.*}" ]
}
if have_python && [ -x "$VENV/bin/hass" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    echo "setup_ha: $VENV is up to date"
    exit 0
fi

start=$(date +%s)
if [ -e "$VENV" ] && ! have_python; then
    echo "setup_ha: $VENV was made with another Python; making it again"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    "$LJ_HA_PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$LJ_HA_REQUIREMENTS"
installed=$("$VENV/bin/hass" --version)
if [ "$installed" != "$LJ_HA_VERSION" ]; then
    echo "setup_ha: $VENV has Home Assistant $installed, $LJ_HA_REQUIREMENTS pins $LJ_HA_VERSION" >&2
    exit 1
fi
echo "$want" >"$STAMP"
echo "setup_ha: installed Home Assistant $installed into $VENV in $(($(date +%s) - start)) s"
