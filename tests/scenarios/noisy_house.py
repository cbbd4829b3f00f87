"""A house that never keeps still, wired exactly as configured: the scenario the phase
detector must stay silent on (no remap, no notification), for the test suite (hours) and for
`tests/bench/bench_phase_noise.py` (a week)."""

from __future__ import annotations

import random
from typing import Any

#: Per phase, the house stays within these amps (a 32 A breaker leaves room for the cars).
HOUSE_MAX_A = 14.0


def noisy_house(seed: int, duration_s: int, step_s: float = 5.0) -> dict[str, Any]:
    """Random house steps on every phase (0.5 to 9 A, every 5 s to 10 min), a random walk of
    0.3 A per cycle on top, and cars that come and go; every load's `phase_map` is right and
    the 1-phase charger may remap itself (`phase_map: auto`)."""
    rng = random.Random(seed)
    house = [4.0, 4.0, 4.0]
    timeline: list[dict[str, Any]] = []
    t = 0.0
    while True:
        t += rng.randint(1, 120) * step_s
        if t >= duration_s - step_s:
            break
        phase = rng.randrange(3)
        step = rng.choice((-1, 1)) * rng.uniform(0.5, 9.0)
        house[phase] = min(HOUSE_MAX_A, max(0.0, house[phase] + step))
        timeline.append({"t": t, "site": {"house_a": [round(h, 2) for h in house]}})
        if rng.random() < 0.05:
            car = rng.choice(("one", "three"))
            timeline.append({"t": t, "loads": {car: {"connected": rng.random() < 0.7}}})
    return {
        "name": f"noisy-house-{seed}",
        "step_s": step_s,
        "duration_s": duration_s,
        "site": {
            "phases": 3,
            "main_breaker_a": 32,
            "house_a": [4.0, 4.0, 4.0],
            "grid_noise_a": 0.3,
            "grid_noise_seed": seed,
        },
        "loads": [
            {"id": "one", "type": "evse", "mode": "continuous", "priority": 1, "min_a": 6,
             "max_a": 16, "phases": 1, "phase_map": "auto"},
            {"id": "three", "type": "evse", "mode": "continuous", "priority": 2, "min_a": 6,
             "max_a": 16, "phases": 3},
            {"id": "heater", "type": "plug", "mode": "continuous", "priority": 3,
             "power_w": 2000, "phases": 1, "phase_map": ["C"], "auto_remap": True},
        ],
        "timeline": timeline,
    }  # fmt: skip
