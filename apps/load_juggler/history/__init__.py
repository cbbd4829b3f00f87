"""Replay of a recorded Home Assistant history through the hub's controller (`replay.py`).

`sources` reads the recorder database or a History CSV, `rest` a running HA's history API,
`setup` the user's apps.yaml, `states` and `recorded_loads` what the recording says at each
moment, `replay_run` runs the controller on it, and `compare` puts the recorded day and the
replayed one side by side.
"""
