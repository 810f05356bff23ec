"""Chronopic and Timy through their adapters against the simulators' truth: split error at the
device's resolution, the naive host-receipt baseline, and mapped host time against its bound.

Why: an adapter's promise (issue 13) is that a split between two edges of one device keeps the
device's own resolution, 8 µs ticks for a Chronopic and 1/10,000 s for a Timy, however late
the bytes reach the host. The truth is what the simulators (hardware/sim/chronopic.py and
timy.py) keep: the host time of every edge, and the device's clock (offset and drift) at it.

Figures, per device kind, over splits between successive beam breaks of one device:
- `ticks_vs_device`: tick difference x tick length against the true interval on the
  device's own clock (true interval x (1 + drift)): truncation alone. Target at p99: 16 µs
  for a Chronopic (each interval truncates to whole 8 µs ticks, a split spans two), 0.2 ms
  for a Timy (it truncates each time to 0.1 ms).
- `ticks_vs_true`: the same split against the true interval: the crystal's drift included.
- `receipt`: the baseline in the same run, the split a program without device timestamps
  gets: the difference of the two events' `received_mono_us`, against the true interval.
- `mapped`: each event's `mono_us` (ticks mapped to host time by the ReceiptClock) minus the
  true host time of the edge, against the `sync_error_us` the event states.

Each kind runs on two links. `bridge`: between the simulator's pty and the host, a relay that
adds what a pty leaves out: a USB-serial bridge's latency, 1 to `usb_ms` per chunk, in order
(an FTDI's latency timer is 16 ms by default). The simulators themselves spend the UART's line
time (a record is whole on the pty when its last byte would have crossed the line). `pty`: the
simulator's own pty, as the adapter tests open it. Splits from ticks do not depend on the
link; the baseline and the mapped host time do.

Splits are scheduled densely so that a few hundred fit in about a minute: a dozen Chronopics
at once (break 80-200 ms, then a gap log-uniform over 0.3-5 s, as on one input wired to the
gates of a multi-gate sprint, mostly short gaps between gates and a few long ones), and Timys
at 9600 and 38400 baud with impulses on channels 0, 2, 1 in turn 40-500 ms apart (a line
takes 28 ms at 9600 baud).
"""
