"""Fixtures of the drill tests."""

from __future__ import annotations

import pytest

from drills.loader import load_drill_text, load_library
from drills.model import Drill
from drills.norms import NormTable
from tests.drills.engine_support import THREE_GATES
from tests.drills.norm_support import SHIPPED_TABLES
from tests.drills.pods_support import pod_reaction


@pytest.fixture
def tables() -> list[NormTable]:
    """The shipped norm tables, loaded once for the whole run."""
    return SHIPPED_TABLES


@pytest.fixture()
def backward() -> Drill:
    return load_library()["backward-sprint-10m"]


@pytest.fixture()
def three() -> Drill:
    return load_drill_text(THREE_GATES, "sprint-20m.toml")


@pytest.fixture(scope="module")
def pod_drill() -> Drill:
    """The shipped pod-reaction drill, which the pod series tests run."""
    return pod_reaction()
