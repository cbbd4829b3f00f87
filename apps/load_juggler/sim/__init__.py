"""The scenario simulator's parts: scenario files, a plant model, metrics, a runner and a plot.

Nothing here imports AppDaemon; the runner drives the same `engine.controller.Controller` the hub
uses. The command line lives in `load_juggler.simulate`.
"""
