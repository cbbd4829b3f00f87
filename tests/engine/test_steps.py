"""A staged load's steps: rounding down to a step, and the checks on a load's steps."""

from __future__ import annotations

import pytest

from load_juggler.engine.errors import ConfigError
from load_juggler.engine.model import Load, Site
from load_juggler.engine.steps import floor_to_step
from load_juggler.engine.validate import validate

STEPS = (4.348, 8.696, 13.044)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, 0.0), (4.3, 0.0), (4.348, 4.348), (8.695, 4.348), (10.0, 8.696), (99.0, 13.044)],
)
def test_floor_to_step_takes_the_largest_step_not_above(value: float, expected: float) -> None:
    assert floor_to_step(STEPS, value) == expected


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ((4.348, 4.348, 13.044), "must be positive and strictly ascending"),
        ((8.696, 4.348, 13.044), "must be positive and strictly ascending"),
        ((5.0, 8.696, 13.044), "must run from min_a (4.348) to max_a (13.044)"),
        ((4.348, 8.696), "must run from min_a (4.348) to max_a (13.044)"),
    ],
)
def test_validate_refuses_steps_that_do_not_fit_the_range(
    steps: tuple[float, ...], words: str
) -> None:
    load = Load("heater", phases=1, phase_map=("A",), min_a=4.348, max_a=13.044, steps_a=steps)
    with pytest.raises(ConfigError) as err:
        validate(Site(), (), (load,))
    assert err.value.key == "steps_a"
    assert words in str(err.value)
    validate(Site(), (), (Load("ok", min_a=4.348, max_a=13.044, steps_a=STEPS),))
