"""Which rule each gate role gets: the coach's choice, a saved layout's, else by gear kind."""

from __future__ import annotations

import pytest

from drills.crossing import Trigger
from hardware.messages import Caps, DeviceKind
from hardware.records import DeviceInfo
from server.catalog.service import Catalog
from server.devices import binding as binding_cli
from server.devices.gate_rules import choose
from server.errors import InvalidInputError
from server.runs.coordinator import Binding


def _info(key_id: int, adapter: str | None = None) -> DeviceInfo:
    return DeviceInfo(
        "/dev/x", 0, DeviceKind.GATE, key_id, 1, (1, 0, 0), 2_000_000, 9, 1, Caps.BEAM,
        adapter=adapter,
    )  # fmt: skip


GATE, TIMY = _info(0xA1), _info(0x71, "timy")
INFOS = {GATE.key: GATE, TIMY.key: TIMY}


def test_defaults_by_kind_and_the_hold_start_keeps_its_raw_edges() -> None:
    sprint = Catalog.load().get("backward-sprint-10m")
    lane = {"start": Binding(GATE.key, 0), "finish": Binding(TIMY.key, 1)}
    chosen = choose(sprint, lane, INFOS)
    assert chosen["start"].trigger is Trigger.LONGEST_BREAK and chosen["start"].filtered
    assert chosen["finish"].trigger is Trigger.FIRST_BREAK and not chosen["finish"].filtered
    hold = Catalog.load().get("pro-agility-5-10-5-left")
    roles = {r: Binding(GATE.key, i) for i, r in enumerate(hold.device_roles)}
    chosen = choose(hold, roles, INFOS, trigger=Trigger.LONGEST_BREAK, rearm_ms=300)
    start = chosen[hold.start_role]
    assert start.trigger is Trigger.FIRST_BREAK and not start.filtered
    chosen = choose(sprint, lane, INFOS, rearm_ms=300)
    assert chosen["start"].rearm_ms == 300 and chosen["start"].rule().rearm_us == 300_000


def test_a_saved_rule_is_kept_and_a_given_one_wins() -> None:
    sprint = Catalog.load().get("backward-sprint-10m")
    lane = {"start": Binding(GATE.key, 0), "finish": Binding(GATE.key, 1)}
    kept = choose(sprint, lane, INFOS, keep=frozenset({"start"}))
    assert kept["start"].trigger is Trigger.FIRST_BREAK  # as the layout said
    assert kept["finish"].trigger is Trigger.LONGEST_BREAK  # by kind
    given = choose(sprint, lane, INFOS, trigger=Trigger.FIRST_BREAK, keep=frozenset({"start"}))
    assert {b.trigger for b in given.values()} == {Trigger.FIRST_BREAK}


@pytest.mark.parametrize(
    ("lane", "trigger", "words"),
    [
        ({"start": Binding(GATE.key, 0), "finish": Binding(GATE.key, 1)}, Trigger.DUAL_BEAM,
         "needs two beams"),
        ({"start": Binding(GATE.key, 0), "finish": Binding(TIMY.key, 1)}, Trigger.LONGEST_BREAK,
         "a Timy reports impulses"),
        ({"start": Binding(GATE.key, 0, bottom=1), "finish": Binding(GATE.key, 2)},
         Trigger.FIRST_BREAK, "two beams: its rule is dual-longest or dual-beam"),
        ({"start": Binding(GATE.key, 0), "finish": Binding(GATE.key, 1)}, Trigger.DUAL_LONGEST,
         "dual-longest needs two beams"),
        ({"start": Binding(TIMY.key, 0, bottom=1), "finish": Binding(GATE.key, 2, bottom=3)},
         Trigger.DUAL_LONGEST, "a Timy reports impulses"),
    ],
)  # fmt: skip
def test_rules_that_cannot_work_are_refused(
    lane: dict[str, Binding], trigger: Trigger, words: str
) -> None:
    sprint = Catalog.load().get("backward-sprint-10m")
    with pytest.raises(InvalidInputError, match=words):
        choose(sprint, lane, INFOS, trigger=trigger)


def test_a_two_beam_role_keeps_its_rule_and_a_window_is_only_for_windowed_rules() -> None:
    sprint = Catalog.load().get("backward-sprint-10m")
    lane = {
        "start": Binding(GATE.key, 0, Trigger.DUAL_LONGEST, bottom=1),
        "finish": Binding(GATE.key, 2, Trigger.DUAL_BEAM, bottom=3),
    }
    chosen = choose(sprint, lane, INFOS, window_ms=120)
    assert chosen["start"].trigger is Trigger.DUAL_LONGEST
    assert chosen["start"].rule().window_us == 120_000
    assert chosen["finish"].trigger is Trigger.DUAL_BEAM and chosen["finish"].window_ms is None


def test_a_role_without_a_re_arm_takes_the_drills() -> None:
    walk = Catalog.load().get("backward-walk-3m")
    assert walk.rearm_us == 1_500_000  # the drill file says 1.5 s: walkers stay in the beam
    chosen = choose(walk, {"start": Binding(GATE.key, 0), "finish": Binding(GATE.key, 1)}, INFOS)
    assert chosen["finish"].rule(walk).rearm_us == 1_500_000
    assert chosen["finish"].rule().rearm_us == 500_000  # no drill: the rule's default
    given = choose(walk, {"finish": Binding(GATE.key, 1)}, INFOS, rearm_ms=800)
    assert given["finish"].rule(walk).rearm_us == 800_000


def test_a_role_on_two_beams_is_written_top_comma_bottom() -> None:
    spec = binding_cli.parse_role("start=gate-000000A1:0,1")
    assert (spec.channel, spec.bottom) == (0, 1)
    for bad in ("start=gate-000000A1:0,0", "start=gate-000000A1:0,1,2"):
        with pytest.raises(ValueError, match="dual-beam"):
            binding_cli.parse_role(bad)
