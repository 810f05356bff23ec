"""Benchmarks: `make bench` runs them and rewrites docs/BENCHMARKS.md."""
