"""Each benchmark of `python -m bench` as a section: run it, then say what it means in Markdown.

A section states what was measured and how, the command that reproduces it, a table, and each
target with whether this run met it: a missed target is reported with its figure, never hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench import data_sections
from bench.adapters.report import render_markdown as _adapters_md
from bench.adapters.run import run_adapters_bench
from bench.common import JsonDict
from bench.firmware import run_firmware_bench
from bench.fullstack import fullstack_markdown, fullstack_section
from bench.gates.report import render_markdown as _gates_md
from bench.gates.run import run_gates_bench
from bench.hotplug import run_hotplug_bench
from bench.live_fanout import run_live_fanout_bench
from bench.markdown import met, stats_table
from bench.reaction import run_reaction_bench
from bench.stations.day import StationsConfig
from bench.stations.report import render_markdown as _stations_md
from bench.stations.run import run_stations_bench
from bench.throughput import run_throughput_bench
from bench.timing import run_timing_bench


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    run: Callable[[int], JsonDict]
    render: Callable[[JsonDict], str]


def _timing_md(r: JsonDict) -> str:
    dc, hr, cfg, run = r["device_clock"], r["host_receipt"], r["config"], r["run"]
    table = stats_table(
        [
            ("device_clock", "finish.mono_us - start.mono_us (two clock fits)", dc),
            ("host_receipt", "finish - start host receive time (naive)", hr),
        ],
        "runs",
    )
    ok_p99, ok_max = dc["p99_ms"] <= 0.5, dc["max_ms"] <= 1.0
    lanes, drift, jitter = cfg["lanes"], cfg["drift_ppm"], cfg["jitter_ms"]
    return f"""Start and finish gates on **different** simulated devices: {lanes} lanes x 2 gates,
each gate alone on its own pty with its own crystal (drift drawn within ±{drift:g} ppm:
{run["drifts_ppm"]}) and its own USB delay: 1 to {jitter:g} ms per frame,
{cfg["spike_rate"]:.0%} of frames a further 100 ms (frames stay in order, so a spike stalls
those behind it). The real host
(DevicePorts, PortSession over the ptys) maps each event's ticks to host time by its device's
clock fit; no engine, no database. Athletes set off every 0.3-0.5 s per lane, so runs overlap
(true splits {run["split_range_s"][0]}-{run["split_range_s"][1]} s); events are matched to runs
by each device's event number against the simulator's truth. Warm-up: timing began once every
clock had a fitted rate and at least {cfg["min_warmup_s"]:g} s after plug-in; this run waited
{run["warmup_s"]} s. The runs took {run["duration_s"]} s. Error is |recorded - true split|.
Offset error bounds the host stated at the end (µs): {run["sync_error_bound_us"]}. Mean signed
device-clock error: {run["device_clock_mean_ms"]} ms.

Command: `python -m bench --only timing` (or `python -m bench run timing --json`)

{table}

Targets over {cfg["runs"]} runs ({run["runs_matched"]} of {run["runs_planned"]} matched):
device_clock p99 <= 0.5 ms: {met(ok_p99)}; max <= 1 ms: {met(ok_max)}.
"""


def _reaction_md(r: JsonDict) -> str:
    cfg, run = r["config"], r["run"]
    table = stats_table(
        [
            ("reaction", "measured - true reaction time", r["reaction"]),
            ("onset_device_truth", "true onset - requested host time", r["onset_device_truth"]),
            ("onset_host_mapped", "onset tick mapped by fit - requested", r["onset_host_mapped"]),
        ],
        "cues",
    )
    ok_rt = r["reaction"]["p99_ms"] <= 0.2
    ok_onset = r["onset_device_truth"]["p99_ms"] <= 1.0
    ok_mapped = r["onset_host_mapped"]["p99_ms"] <= 1.0
    ports, per_port = cfg["ports"], cfg["pods_per_port"]
    return f"""{ports * per_port} pods ({ports} ports x {per_port} at addresses 0..), same link and
crystals as above. The host lights a pod with `DevicePorts.schedule_light` at a host time
{cfg["lead_ms"][0]:g}-{cfg["lead_ms"][1]:g} ms ahead; the simulated athlete touches after a drawn
reaction time (true reactions {run["reaction_range_s"]} s). Reaction time is touch ticks minus
onset ticks over the fitted rate (`hardware.cues.reaction_time_us`), against true touch minus true
onset. Onset is reported twice: **onset_device_truth** is when the light really came on (the
simulator's truth) minus the requested host time, what the athlete sees; **onset_host_mapped**
is the reported onset tick mapped back to host time by the same clock fit, minus the request,
what the host believes (it shares the fit's offset error, so it looks better than it is).
Warm-up {run["warmup_s"]} s; {run["onsets_after_target"]} onsets came after their target;
{run["cues_refused_not_ready"]} cue attempts were refused because a pod's clock had dropped out of
`ready` (retried 0.1 s later).

Command: `python -m bench --only reaction`

{table}

Targets: reaction p99 <= 0.2 ms: {met(ok_rt)}; onset p99 <= 1 ms against the truth:
{met(ok_onset)}; host-mapped: {met(ok_mapped)}.
"""


def _throughput_md(r: JsonDict) -> str:
    cfg, cpu = r["config"], r["cpu_us_per_event"]
    lag = r["delivery_lag_ms"]
    ok = r["events_per_s"] >= 5000 and r["events_delivered"] == r["events_sent"]
    per_port = cfg["devices_per_port"]
    head = [
        "events/s", "offered/s", "sent", "delivered", "unique", "suppressed",
        "duplicates dropped", "CPU µs/event total", "host", "simulator",
        "lag p50 / p99 / max (ms)",
    ]  # fmt: skip
    row = [
        f"{r['events_per_s']:.0f}", f"{cfg['rate']:g}", r["events_sent"], r["events_delivered"],
        r["events_unique"], r["events_suppressed"], r["duplicates_dropped"], cpu["total"],
        cpu["host"], cpu["simulator"], f"{lag['p50']} / {lag['p99']} / {lag['max']}",
    ]  # fmt: skip
    table = "\n".join(
        [
            "| " + " | ".join(head) + " |",
            "|" + "---:|" * len(head),
            "| " + " | ".join(str(x) for x in row) + " |",
        ]
    )
    gates = f"gates at 1..{per_port - 1}"
    return f"""{cfg["ports"]} ports x {per_port} devices (a hub at address 0, {gates})
through the real host. {cfg["events"]} beam edges offered at {cfg["rate"]:g}/s in all,
round-robin over the devices; the link here is fast ({cfg["jitter_ms"]:g} ms per frame, spike
rate {cfg["spike_rate"]:g}) so the figure is the host's capacity. Events/s is delivered
events over the time from the first edge to the last delivery. CPU is process time over the
run per delivered event; the simulator's port threads run in this process, so their own CPU
clocks split it into host and simulator.
Delivery lag is host receipt minus true edge time. Duplicates are device retransmissions the
host dropped (it acknowledges each batch of events that arrive together; a device whose oldest
event waits past its RTO, 25 ms at least, re-sends that event).

Command: `python -m bench --only throughput`

{table}

Target: >= 5,000 events/s with delivered == sent: {met(ok)}.
"""


def _hotplug_md(r: JsonDict) -> str:
    cfg = r["config"]
    table = stats_table(
        [
            ("identified", "plug-in to HELLO at the host", r["identified"]),
            ("ready", "plug-in to clock ready", r["ready"]),
        ],
        "trials",
    )
    ok = r["ready"]["max_ms"] <= 2000
    return f"""A gate on a fresh pty is added to a `SimPortLister`; `DevicePorts.watch` polls it
every {cfg["poll_interval_s"]:g} s, opens the port by USB identity, and the device says HELLO and
synchronises (same link as the timing benchmark). Plug-ins land at a random moment of the poll
cycle. {cfg["trials"]} trials.

Command: `python -m bench --only hotplug`

{table}

Target: up (ready) within 2 s: median {met(r["ready"]["p50_ms"] <= 2000)}, every trial {met(ok)}.
"""


def _live_md(r: JsonDict) -> str:
    cfg, base, fan = r["config"], r["baseline"], r["fanout"]
    mem = fan["rss_mb"]
    table = stats_table(
        [
            ("baseline", f"{base['clients']} client(s), {cfg['baseline_s']:g} s", base),
            ("fanout", f"{fan['clients']} clients, {cfg['duration_s']:g} s", fan),
        ],
        "messages",
    )
    complete = fan["clients_complete"] == fan["clients"] and fan["messages_missing"] == 0
    ok_p99 = fan["p99_ms"] <= 10
    ok_max = fan["max_ms"] <= 50
    ok_mem = mem["max_growth_pct"] <= 10
    return f"""The real app under uvicorn in its own process (as `agility serve` starts it) on
a temp SQLite file. Inside it, beam breaks of three gates go to the real RunCoordinator at
{cfg["rate_hz"]:g} splits/s, reps of `{cfg["drill"]}`, each ending with a `run` message: every break
is stored, timed, committed and published by the same code as on a real day, through the real
LiveHub (privacy rewrite, numbering, history) and `/ws/live`. Latency is a client's receive
time minus the host monotonic time stamped right after the commit (one clock for both
processes). The clients are plain sockets under websockets' sans-I/O protocol in one selector
loop: each is stamped as its socket is read, and parsed only after every ready socket was read,
so the figure is the server's, not the benchmark's own queue. The baseline phase, with
{base["clients"]} client(s), gives the same path without fan-out. Memory is the server process's
RSS, sampled every {cfg["sample_s"]:g} s from the moment the clients were connected.

Command: `python -m bench --only live` (or `python -m bench run live --json`)

{table}

Server RSS: {mem["start"]} MB at the start, {mem["end"]} MB at the end, {mem["max"]} MB at most
({mem["samples"]} samples); growth {mem["growth_pct"]} %, at most {mem["max_growth_pct"]} %.
Every client got every message ({fan["messages_published"]} each, in order):
{met(complete)} ({fan["clients_complete"]} of {fan["clients"]}).

Targets: fan-out p99 <= 10 ms: {met(ok_p99)}; max <= 50 ms: {met(ok_max)}; memory flat within
10 %: {met(ok_mem)}.
"""


def _firmware_md(r: JsonDict) -> str:
    one, two, onset, rate = (r["split_one_nano"], r["split_two_nanos"], r["onset"], r["edge_rate"])
    splits = stats_table(
        [
            ("one Nano, device clock", "tick difference over the fitted rate", one["device_clock"]),
            ("one Nano, host receipt", "baseline: when the EVENTs arrived", one["host_receipt"]),
            ("two Nanos, device clocks", "difference of mapped host times", two["device_clock"]),
            ("two Nanos, host receipt", "baseline", two["host_receipt"]),
        ],
        "splits",
    )
    onsets = stats_table(
        [
            ("onset vs pins", "reported onset tick against the pin change", onset["onset_vs_pins"]),
            (
                "onset vs command",
                "onset tick against the commanded tick",
                onset["onset_vs_command"],
            ),
        ],
        "cues",
    )
    steps = "\n".join(
        f"| {s['edges_per_s']} | {s['edges']} | {s['delivered']} | {s['dropped']} |"
        for s in rate["steps"]
    )
    split_ok = max(one["device_clock"]["p99_ms"], two["device_clock"]["p99_ms"]) <= 0.5
    lag_note = (
        f"Splits during which a harness fell more than 0.5 ms further behind the wall clock are "
        f"left out of the rows above and counted here: {one['lagged_splits']} (one Nano) and "
        f"{two['lagged_splits']} (two Nanos) of {one['device_clock_all']['splits']} each; "
        f"with them, the device-clock p99 is {one['device_clock_all']['p99_ms']:.3f} ms and "
        f"{two['device_clock_all']['p99_ms']:.3f} ms."
    )
    onset_ok = onset["onset_vs_pins"]["p99_ms"] <= 0.05
    return f"""The exact gate and pod images of `make -C firmware` run in simavr (firmware/sim/),
each paced to the wall clock, under the host's driver. Beam edges are injected at known
cycles and the pod's output pins are logged with the cycle they changed at: those cycles are
the truth. Two Nanos each keep their own clock; their truth is placed on the host's clock to
within {two["truth_uncertainty_us"]} us. The harness fell behind the wall clock by at most
{one["harness_lag_us"]} us (one Nano) and {two["harness_lag_us"]} us (two Nanos) in this run:
a lag is the simulation's, not the firmware's, and shows in the fitted rate. The pty adds no
USB latency, so the host-receipt baseline here holds only the line time and the host's
scheduling; a USB bridge adds 1-16 ms more to it (the timing section above models that), and
nothing to the device-clock figures.

Command: `python -m bench --only firmware` (or `python -m bench run firmware`)

{splits}

{lag_note}

Target: split error p99 <= 0.5 ms: {met(split_ok)}.

{onsets}

Target: onset against the pins p99 <= 0.05 ms: {met(onset_ok)}.

Highest edge rate sustained at 115200 baud, 5 s per step, the host acknowledging:
**{rate["sustained_edges_per_s"]} edges/s** (an EVENT frame is 18 bytes, so the wire
carries about 650 a second; the 128-event buffer absorbs bursts above that).

| edges/s | edges | delivered | dropped |
|---:|---:|---:|---:|
{steps}
"""


def _seeded(run: Callable[..., JsonDict]) -> Callable[[int], JsonDict]:
    """A benchmark whose only argument is its seed, as a section runs it."""
    return lambda seed: run(seed=seed)


SECTIONS = [
    Section(
        "fullstack", "Split timing through the whole server", fullstack_section, fullstack_markdown
    ),
    Section("timing", "Split accuracy across two devices", _seeded(run_timing_bench), _timing_md),
    Section("reaction", "Reaction time and light onset", _seeded(run_reaction_bench), _reaction_md),
    Section("throughput", "Event throughput", _seeded(run_throughput_bench), _throughput_md),
    Section("firmware", "Reference firmware in simavr", _seeded(run_firmware_bench), _firmware_md),
    Section("adapters", "Chronopic and Timy adapters", _seeded(run_adapters_bench), _adapters_md),
    Section("gates", "Gate rules against the torso", _seeded(run_gates_bench), _gates_md),
    Section("hotplug", "Hot-plug to ready", _seeded(run_hotplug_bench), _hotplug_md),
    Section(
        "live",
        "Live feed fan-out and memory",
        lambda seed: run_live_fanout_bench(),  # nothing random in it: the seed is not used
        _live_md,
    ),
    Section(
        "stations",
        "Stations: a testing day at once",
        lambda seed: run_stations_bench(StationsConfig(seed=seed)),
        _stations_md,
    ),
    Section(
        "boards",
        "Leaderboards on a million splits",
        data_sections.board_scale,
        data_sections.board_scale_md,
    ),
    Section(
        "report-pdf",
        "Team PDF report for a season",
        data_sections.report_pdf,
        data_sections.report_pdf_md,
    ),
]
