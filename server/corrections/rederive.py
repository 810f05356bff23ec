"""A past rep timed again with another gate rule, from its stored raw edges.

Each crossing of the rep is on record with the raw edges its rule weighed (table `crossing`);
every raw edge is on record too (table `deviceevent`). Re-deriving reads the edges of each
crossing's beams around it, applies the new rule (drills/crossing.py), and times the splits
again from the crossings it finds. The service stores the result as a correction: the old and
new splits in the audit entry, never a silent rewrite.

Only reps whose clock starts at a gate (an auto start) are re-derived: a GO or a cue starts the
clock from a signal that has no beam edge to re-read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, col, select

from drills import Drill, Stamp, StartType, TimeBasis
from drills.crossing import BeamEdge, CrossingDetector, Detected, GateRule
from drills.timing import elapsed_us
from hardware.timebase import us_to_ticks
from server.db.models import Crossing, DeviceEvent, Split
from server.errors import ConflictError

BEAM_KINDS = ("beam_broken", "beam_restored")
# How far before the first edge a crossing weighed to read again: a dual-beam crossing keeps
# only its pair, and the first break of the pass may come this much before it.
BEFORE_US = 250_000
# And after its last one, beyond the new rule's window: the torso's break may end late.
AFTER_US = 300_000


@dataclass(frozen=True)
class Rederived:
    crossings: list[tuple[Crossing, Detected]]
    splits: list[tuple[Split, int]]  # each split and its new elapsed_us
    total_us: int


def event_stamp(event: DeviceEvent) -> Stamp:
    """A stored raw event's stamp: its device ticks, and host time as the clock mapped it
    (the receipt time when it had no fit, as the live rep had it)."""
    mapped = event.mapped_mono_us
    return Stamp(
        mono_us=event.received_mono_us if mapped is None else mapped,
        clock=f"{event.device}:{event.boot_id}", ticks=event.ticks,
        tick_hz_est=event.tick_hz_est, basis=TimeBasis.of_device(mapped, event.by_receipt),
    )  # fmt: skip


def stored_event(session: Session, device: str, boot_id: int, seq: int) -> DeviceEvent | None:
    return session.exec(
        select(DeviceEvent).where(
            DeviceEvent.device == device, DeviceEvent.boot_id == boot_id, DeviceEvent.seq == seq
        )
    ).first()


def _crossing_again(session: Session, row: Crossing, rule: GateRule) -> Detected:
    weighed = [
        stored_event(session, d, b, s) for d, b, s, _beam, _broken in json.loads(row.edges_json)
    ]
    beams = {
        beam: ev.channel
        for (_d, _b, _s, beam, _broken), ev in zip(json.loads(row.edges_json), weighed, strict=True)
        if ev is not None
    }
    events = [ev for ev in weighed if ev is not None]
    if not events or 0 not in beams:
        raise ConflictError(f"the raw edges of the {row.role} crossing are not stored")
    if rule.beams == 2 and 1 not in beams:
        raise ConflictError(f"{row.role} was timed on one beam; {rule.trigger.value} needs two")
    channels = [beams[0]] if rule.beams == 1 else [beams[0], beams[1]]
    hz = events[0].tick_hz_est
    lo = min(ev.ticks for ev in events) - round(us_to_ticks(BEFORE_US, hz))
    hi = max(ev.ticks for ev in events) + round(us_to_ticks(rule.window_us + AFTER_US, hz))
    around = session.exec(
        select(DeviceEvent)
        .where(
            DeviceEvent.device == row.device, DeviceEvent.boot_id == row.boot_id,
            col(DeviceEvent.channel).in_(channels), col(DeviceEvent.kind).in_(BEAM_KINDS),
            DeviceEvent.ticks >= lo, DeviceEvent.ticks <= hi,
        )
        .order_by(col(DeviceEvent.seq))
    ).all()  # fmt: skip
    detector = CrossingDetector(rule)
    found: list[Detected] = []
    for ev in around:
        edge = BeamEdge(
            channels.index(ev.channel), ev.kind == "beam_broken", event_stamp(ev),
            (ev.device, ev.boot_id, ev.seq),
        )  # fmt: skip
        found += detector.edge(edge)
    found += detector.flush()
    if not found:
        raise ConflictError(f"the {row.role} gate's edges give no crossing with that rule")
    return found[0]


def rederive(session: Session, run_id: int, drill: Drill, rule: GateRule) -> Rederived:
    """The rep's crossings and splits under `rule`; ConflictError naming why it cannot be."""
    if drill.start.type is not StartType.AUTO:
        raise ConflictError(
            f"{drill.slug} starts on a signal ({drill.start.type.value}), which has no beam edge "
            "to read again: only reps started at a gate can be re-derived"
        )
    rows = list(
        session.exec(select(Crossing).where(Crossing.run_id == run_id).order_by(col(Crossing.id)))
    )
    splits = list(
        session.exec(select(Split).where(Split.run_id == run_id).order_by(col(Split.position)))
    )
    if not rows:
        raise ConflictError(
            f"run {run_id} was recorded before crossings were kept: it cannot be re-derived"
        )
    if len(rows) != len(splits) + 1 or len(splits) != len(drill.segments):
        raise ConflictError(f"run {run_id} did not finish: only a whole rep is re-derived")
    again = [(row, _crossing_again(session, row, rule)) for row in rows]
    new = [
        (split, elapsed_us(a.at, b.at))
        for split, (_, a), (_, b) in zip(splits, again, again[1:], strict=False)
    ]
    return Rederived(again, new, elapsed_us(again[0][1].at, again[-1][1].at))
