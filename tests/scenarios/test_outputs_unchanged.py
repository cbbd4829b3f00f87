"""Every committed scenario decides exactly as recorded (see `golden_outputs.py`)."""

from __future__ import annotations

from typing import Any

import pytest

from .golden_outputs import golden_path, read_golden, run_json, scenario_files

CASES = {"example": None, **scenario_files()}


def _first_difference(expected: Any, actual: Any, where: str = "") -> str | None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in expected or key not in actual:
                return f"{where}.{key}: only in {'recorded' if key in expected else 'new'} output"
            found = _first_difference(expected[key], actual[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for n, (a, b) in enumerate(zip(expected, actual, strict=False)):
            found = _first_difference(a, b, f"{where}[{n}]")
            if found:
                return found
        if len(expected) != len(actual):
            return f"{where}: {len(expected)} items recorded, {len(actual)} now"
        return None
    if expected != actual:
        return f"{where}: recorded {expected!r}, now {actual!r}"
    return None


@pytest.mark.parametrize("name", sorted(CASES))
def test_scenario_output_is_as_recorded(name: str) -> None:
    assert golden_path(name).exists(), f"no recorded output for {name}: run golden_outputs.py"
    difference = _first_difference(read_golden(name), run_json(CASES[name]))
    assert difference is None, difference
