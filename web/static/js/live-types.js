// The live feed's message types, member name to wire string: the twin of server/live/messages.py
// (LiveType), kept equal to it by tests/server/test_live_types.py.
export const LIVE = Object.freeze({
  CORRECTION: "correction",
  CROSSING_UNASSIGNED: "crossing_unassigned",
  CUE: "cue",
  DEVICE: "device",
  FLAG: "flag",
  HELLO: "hello",
  INTERVAL: "interval",
  PLAN: "plan",
  RUN: "run",
  SPLIT: "split",
  START_REFUSED: "start_refused",
  STIMULUS: "stimulus",
});
