"""Helpers of the pod series tests: a small pod drill, stimuli, stamps."""

from __future__ import annotations

from drills.loader import load_drill_text, load_library
from drills.model import Drill
from drills.pods import PodSeries, Stimulus
from drills.timing import Stamp

MS = 1_000
S = 1_000_000
WINDOW = 1_500 * MS  # pod-reaction's window_s

LEFT, RIGHT, FRONT_L = "pod_left", "pod_right", "pod_front_left"

SMALL_POD_DRILL = """\
format = 1
slug = "pods-small"
name = "Pods"
purpose = "Test pod drill."
category = "reactive"
direction = "mixed"
timing = "pods"
[roles.a]
kind = "pod"
x_m = 1.0
[roles.b]
kind = "pod"
x_m = -1.0
[stimuli]
count = {count}
pods = {pods}
colours = ["red", "blue", "yellow", "green"]
go = ["green"]
foreperiod_min_s = 0.5
foreperiod_max_s = 1.0
window_s = 1.0
"""


def small_drill(count: int, pods: str = '["a", "b"]') -> Drill:
    return load_drill_text(SMALL_POD_DRILL.format(count=count, pods=pods), "pods-small.toml")


def pod_reaction() -> Drill:
    return load_library()["pod-reaction"]


def stim(index: int, pod: str, colour: str = "green") -> Stimulus:
    return Stimulus(index, S, pod, colour, colour == "green")


def series(drill: Drill, *stimuli: Stimulus) -> PodSeries:
    return PodSeries(drill, stimuli)


def at(mono_us: int, clock: str | None = None, ticks: int | None = None) -> Stamp:
    if clock is None:
        return Stamp(mono_us)
    return Stamp(mono_us, clock=clock, ticks=ticks, tick_hz_est=1_000_000.0)
