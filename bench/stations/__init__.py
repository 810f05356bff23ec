"""A testing day at scale: six stations at once on one server, every crossing checked against
the simulator's truth, and how soon each split reaches a phone (issue 15).

The server is the real one (`server.app.build_services`): the Stations, one RunCoordinator per
station, the recorder on an SQLite file, the LiveHub and plan sessions on the APScheduler. Each
station has its own simulated hub on a pty through the real driver (`SimRig`). Athletes are
called up by plan sessions (`PlanService.schedule(..., station=name)`, countdowns shortened by
`time_scale`); the harness watches each station's coordinator and, as soon as an athlete is
armed, schedules that athlete's beam edges on the station's hub. Each crossing is one clean
break (no limbs), so whose crossing it was is never in doubt in the truth.

Scenarios, each on a fresh server and database, in one run:
- `stations`: sprint lanes with a minimum start spacing (the next athlete sets off every
  `start_every_s` while the last is still running; crossings assigned by drills/overlap.py
  through server/runs/course_lane.py) alternate with change-of-direction drills run one athlete
  at a time. The athletes, in one group per station, move on to the next station each round.
  Speeds vary (up to `slowest` times the model's time), but a start every 5 s leaves no room
  for a pass on these lanes: FIFO is right every time, and no flag is expected.
- `baseline`: one sprint lane alone, the same measure: what the other stations cost.
- `overtakes`: one sprint lane where athletes are passed between the 10 m gate and the finish
  by the athlete who set off after them. FIFO gives both finishes to the wrong athlete by
  design; the flag on the live feed is what the coach sees. Two kinds of passed athlete: a
  steady jogger (even pace throughout) and one who pulls up after the 10 m gate.

Checked for every rep: each crossing the server gave it (by the device's event number) is one
the simulator made for that athlete at that gate, else it is a wrong assignment; each split of
a finished rep equals the truth within 0.5 ms. Split to phone: a page's queue on the LiveHub
stamps each split message's arrival; latency is that minus the true time of the crossing that
ended the split (USB, driver, raw-event store, engine, split commit, publish). The Markdown is
written by bench/stations/report.py.
"""
