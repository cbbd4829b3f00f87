"""Controller lines that issue 8 requires a test for: each fails when its line is deleted."""

from __future__ import annotations

from load_juggler.engine.control_types import LoadReading, LoadState, SiteStatus
from load_juggler.engine.model import Mode

from .scripted import FAST, car, make, readings


def test_the_stale_fallback_holds_only_cars_that_draw() -> None:
    controller, _ = make(
        car("drawing", mode=Mode.CONTINUOUS), car("full", mode=Mode.CONTINUOUS), settings=FAST
    )
    loads = {"drawing": LoadReading(), "full": LoadReading(drawing=False)}
    for t in (0.0, 5.0):
        result = controller.step(t, readings(**loads))
    assert [result.commands[c].current_a for c in ("drawing", "full")] == [16.0, 16.0]
    stale = controller.step(65.0, readings(None, **loads))  # 60 s after the last reading
    assert stale.status is SiteStatus.GRID_STALE
    held, idle = stale.commands["drawing"], stale.commands["full"]
    assert (held.current_a, held.on, held.state) == (6.0, True, LoadState.STALE_FALLBACK)
    # A car that does not draw (full) is not held: it could start drawing blind.
    assert (idle.on, idle.write) == (False, True)
