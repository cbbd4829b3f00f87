#!/usr/bin/env bash
# The two commands a fresh machine needs (see README.md):
#   ./run.sh demo   install, then simulate the example configuration and write a plot
#   ./run.sh test   install, then run the whole test suite (lint, unit, app, scenario, end-to-end)
#   ./run.sh replay --apps APPS_YAML --history DB_OR_CSV [...]   install, then replay a recorded
#                   Home Assistant history through Load Juggler (README "Replay ...")
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

install_main() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt
}

case "${1:-}" in
    demo)
        shift
        install_main
        mkdir -p out
        PYTHONPATH=apps "$VENV/bin/python" -m load_juggler.simulate --example apps.yaml.example \
            --plot out/example.png "$@"
        ;;
    test)
        shift
        install_main
        # The e2e Home Assistant: 2025.4.4 on a Python 3.13 when the machine has one, else 2024.3.3
        # on 3.11/3.12 (PYTHON_HA, LJ_HA_VERSION choose; tests/e2e/README.md). Prints the choice.
        if [ "${LJ_SKIP_E2E:-}" != 1 ]; then
            bash tests/e2e/setup_ha.sh
        fi
        "$VENV/bin/ruff" format --check .
        "$VENV/bin/ruff" check .
        "$VENV/bin/python" -m pytest "$@"
        ;;
    replay)
        shift
        install_main
        PYTHONPATH=apps "$VENV/bin/python" -m load_juggler.replay "$@"
        ;;
    *)
        echo "usage: ./run.sh demo | ./run.sh test [pytest args] | ./run.sh replay ARGS" >&2
        exit 2
        ;;
esac
