"""Litestar server: storage, live feed, API and the CLI that wires the layers together."""
