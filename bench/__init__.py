"""Benchmarks of a checkout: `make bench` runs them and rewrites docs/BENCHMARKS.md.

Not part of the installed product (pyproject.toml packages server, hardware, drills and web
only): run them from the repository root as `python -m bench` (see bench/cli.py).
"""
