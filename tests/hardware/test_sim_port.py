"""Virtual ports: faults on the line, FIFO under latency spikes, 32 devices, listing, plugging."""

from __future__ import annotations

import itertools
import os
import threading
import time

from hardware.messages import (
    DeviceKind,
    Event,
    EventKind,
    Hello,
    Identify,
    Ping,
    Pong,
    Status,
)
from hardware.sim.device import VirtualDevice
from hardware.sim.lister import SimPortInfo, SimPortLister
from hardware.sim.models import LatencyModel
from hardware.sim.plugged import PluggedDevice
from hardware.sim.port import UsbIdentity, VirtualPort
from tests.hardware.test_sim_host import MS, RawHost, is_msg

FAST_USB = LatencyModel(0.1, 0.3)


def quiet_gate(device_id: int, seed: int = 0) -> VirtualDevice:
    return VirtualDevice(DeviceKind.GATE, device_id, status_period_s=60.0, seed=seed)


def test_loss_and_corruption_rates_hold_statistically() -> None:
    # 1200 pings: a PING frame is 12 bytes, a PONG 16. Loss 5 % a frame each way, and a bit
    # flip with probability 0.5 % a byte: a round trip survives with probability
    # 0.95^2 * 0.995^28 = 0.784.
    port = VirtualPort([quiet_gate(1)], latency=FAST_USB, seed=42)
    host = RawHost(port.start())
    try:
        host.expect(is_msg(Status))
        port.loss_rate, port.corrupt_rate = 0.05, 0.005
        count = 1200
        for nonce in range(count):
            host.send(0, Ping(nonce))
            if nonce % 50 == 49:
                host.collect(0.01)
        # The downlink UART carries the 12-byte PINGs at 1.04 ms each: wait for the last one.
        host.collect(count * 12 * 10 / 115200 + 0.2)
        pongs = {r.msg.nonce for r in host.log if isinstance(r.msg, Pong)}
        share = len(pongs) / count
        assert 0.74 <= share <= 0.83, share
        stats = port.stats
        assert 0.03 <= stats.lost_down / count <= 0.07, stats
        assert 0.03 <= stats.lost_up / stats.frames_up <= 0.07, stats
        corrupted_share = stats.corrupted_up / max(1, stats.frames_up - stats.lost_up)
        assert 0.05 <= corrupted_share <= 0.11, stats  # 1 - 0.995^16 = 0.077
        assert host.decoder.stats.bad_crc >= stats.corrupted_up // 2
        assert 0 < port.devices[0].rx_errors <= stats.corrupted_down
    finally:
        host.close()
        port.stop()


def test_latency_spikes_keep_frames_in_order() -> None:
    spiky = LatencyModel(1.0, 4.0, spike_rate=0.1, spike_ms=40.0)
    port = VirtualPort([quiet_gate(1)], latency=spiky, seed=9)
    host = RawHost(port.start())
    try:
        host.expect(is_msg(Status))
        for nonce in range(100):
            host.send(0, Ping(nonce))
            host.collect(0.002)  # read as we go, so arrival times are seen
        deadline = time.monotonic() + 3.0
        while sum(isinstance(r.msg, Pong) for r in host.log) < 100 and time.monotonic() < deadline:
            host.pump(0.05)
        pongs = [(r.mono_ns, r.msg) for r in host.log if isinstance(r.msg, Pong)]
        assert [msg.nonce for _, msg in pongs] == list(range(100))
        gaps = [(b[0] - a[0]) / MS for a, b in itertools.pairwise(pongs)]
        assert max(gaps) >= 30, "a spike stalls the frames behind it"
        ticks = [msg.tick32 for _, msg in pongs]
        assert ticks == sorted(ticks), "stamped at receipt, however late the answer"
    finally:
        host.close()
        port.stop()


def test_32_devices_on_one_port_each_with_its_own_clock() -> None:
    kinds = [DeviceKind.HUB] + [DeviceKind.GATE, DeviceKind.POD] * 16
    devices = [VirtualDevice(kinds[a], 0x1000 + a, link_quality=60 + a, status_period_s=60.0,
                             seed=a) for a in range(32)]  # fmt: skip
    port = VirtualPort(devices, latency=FAST_USB, seed=1)
    assert len({d.clock.offset_ticks for d in devices}) == 32
    assert len({d.clock.drift_ppm for d in devices}) == 32
    host = RawHost(port.start())
    try:
        hellos = [host.next(Hello, a) for a in range(32)]
        assert [h.device_id for h in hellos] == [0x1000 + a for a in range(32)]
        host.cursor = 0
        statuses = [host.next(Status, a) for a in range(32)]
        assert [s.link_quality for s in statuses] == [255] + [60 + a for a in range(1, 32)]
        host.send(5, Identify(1, 1))
        assert host.next(Hello, 5).device_id == 0x1005
        for addr, dev in enumerate(devices):
            sent = host.send(addr, Ping(addr))
            got = host.expect(is_msg(Pong, addr))
            lo, hi = dev.clock.ticks_at(sent), dev.clock.ticks_at(got.mono_ns)
            assert isinstance(got.msg, Pong) and got.msg.nonce == addr
            assert (got.msg.tick32 - lo) % 2**32 <= hi - lo
        devices[7].schedule_edge(1, EventKind.BEAM_BROKEN, time.monotonic_ns())
        ev = host.expect(is_msg(Event))
        assert isinstance(ev.msg, Event) and ev.addr == 7
        assert devices[7].truth_since(0)[0].ticks & 0xFFFFFFFF == ev.msg.tick32
    finally:
        host.close()
        port.stop()


def test_lister_shows_plugged_ports_with_their_current_path() -> None:
    usb = UsbIdentity(vid=0x1209, pid=0xA617, serial_number="AG00000001", description="hub")
    port = VirtualPort([quiet_gate(1)], usb=usb, seed=2)
    lister = SimPortLister([port])
    assert lister.comports() == []  # not powered yet
    path = port.start()
    try:
        assert lister.comports() == [SimPortInfo(path, 0x1209, 0xA617, "AG00000001", "hub")]
        port.unplug()
        assert lister.comports() == []
        new_path = port.replug()
        assert [p.device for p in lister.comports()] == [new_path] != [path]
        default = VirtualPort([quiet_gate(0xAB)])
        assert default.usb.serial_number == "AG000000AB"
        lister.remove(port)
        assert lister.comports() == []
    finally:
        port.stop()


def test_virtual_hub_wrapper_keeps_the_v0_api() -> None:
    hub = PluggedDevice(device_id=0x51000001, channels=3, seed=11)
    path = hub.start()
    assert hub.port == path and os.path.exists(path)
    host = RawHost(path)
    host.auto_ack = True
    try:
        hello = host.next(Hello)
        assert isinstance(hello, Hello) and hello.kind is DeviceKind.HUB
        assert (hello.device_id, hello.boot_id, hello.channels) == (0x51000001, hub.boot_id, 3)
        now = time.monotonic_ns()
        for i in range(6):
            hub.schedule_edge(i % 3, EventKind.BEAM_BROKEN, now + (20 + i * 15) * MS)
        got = [host.next(Event, timeout_s=1.0) for _ in range(6)]
        truth = hub.truth_since(0)
        assert [(t.seq, t.channel, t.ticks & 0xFFFFFFFF) for t in truth] == [
            (e.evseq, e.channel, e.tick32) for e in got
        ]
        assert hub.truth_since(4) == truth[4:] and hub.truth == truth
    finally:
        host.close()
        hub.stop()
        hub.stop()


def test_four_ports_of_eight_devices_carry_5000_events_a_second() -> None:
    """The throughput benchmark's load, one second of it, with a host thread per port."""
    ports = [
        VirtualPort([quiet_gate(0x100 * p + a, seed=a) for a in range(8)], seed=p) for p in range(4)
    ]
    hosts = [RawHost(port.start()) for port in ports]
    for host in hosts:
        host.auto_ack = True
    stop = threading.Event()

    def serve(host: RawHost) -> None:
        while not stop.is_set():
            host.pump(0.02)

    threads = [threading.Thread(target=serve, args=(h,), daemon=True) for h in hosts]
    try:
        for t in threads:
            t.start()
        cpu0, start = time.process_time(), time.monotonic_ns() + 50 * MS
        per_device = 5000 // 32  # a second's worth of edges, spread evenly
        for port in ports:
            for dev in port.devices.values():
                for i in range(per_device):
                    kind = EventKind.BEAM_BROKEN if i % 2 == 0 else EventKind.BEAM_RESTORED
                    dev.schedule_edge(i % 2, kind, start + i * (10**9 // per_device))
        deadline = time.monotonic() + 4.0
        want = per_device * 32
        while time.monotonic() < deadline:
            got = sum(isinstance(r.msg, Event) for h in hosts for r in h.log)
            if got >= want:
                break
            time.sleep(0.05)
        cpu_s = time.process_time() - cpu0
        print(f"{want} events on 4x8 devices, {cpu_s:.2f} s CPU (simulator and test host)")
        assert got == want
    finally:
        stop.set()
        for t in threads:
            t.join(1.0)
        for host in hosts:
            host.close()
        for port in ports:
            port.stop()
