"""Simulated rigs: timing hubs, Chronopics and Timys on ptys, opened through the real driver,
and virtual athletes making them run real drills (the demo, `agility run --device sim`, the
plan runner's simulator and the tests)."""
