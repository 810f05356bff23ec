"""Which beam breaks time the torso: each gate rule against the torso's truth, per drill
direction and beam height, and how soon a rule that waits puts the split on the live feed.

Why (issue 14): a single beam is broken first by whatever reaches it first, a heel going
backward, a hand or a knee going forward. Longest-break, dual-beam and dual-longest
(drills/crossing.py) look for the torso among a pass's edges; this benchmark says how close
they come, next to first-break in the same crossings.

Crossings: virtual athletes with bodies (hardware/sim/body.py: published anthropometry and gait
kinematics) cross a gate at a drawn speed, `crossings` times per drill kind: backward runs,
lateral shuffles, forward sprints, and retro walking. Every crossing is simulated once at all
the swept beam heights, so each rule and height sees the same bodies and strides. Its edges
go through a real CrossingDetector per rule: first-break (the baseline) and longest-break (the
default window) on one beam, dual-beam and dual-longest (the same window) on a pair. Error:
the crossing's stamp minus the torso's truth (its leading surface at the gate plane).

Also per crossing:
- `merged`: on a single beam, the torso's own break is part of one break that a limb began
  (a forearm ahead of the chest), so no rule that reads one beam's edges can find the torso's
  start; `single-beam limit` is the error of the best such rule (that merged break's start).
- for each two-beam rule, whether its crossing came before the torso, and which parts were
  in the two beams at that instant.
- `extra`: crossings a rule found after the first within one pass (a slow walker's trailing
  leg after the re-arm): a shuttle would count them.

The crossings are pure (no clock, no I/O; seeded per batch, so the figures do not depend on
how many worker processes share them). The live part (bench/gates/live.py) is not; the
Markdown section is written by bench/gates/report.py.
"""
