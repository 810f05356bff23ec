"""Drill definitions (data) and the run engine (pure logic); knows nothing of devices or HTTP."""

from drills.engine import Crossing, RunEngine, RunOutcome, RunState, SplitResult
from drills.errors import DrillError, DrillFileError, DrillsError, EngineError
from drills.loader import check_paths, load_drill, load_drill_text, load_library
from drills.model import (
    Category,
    Direction,
    Drill,
    Movement,
    Role,
    RoleKind,
    Segment,
    StartSpec,
    StartType,
)
from drills.timing import Stamp, elapsed_us

__all__ = [
    "Category",
    "Crossing",
    "Direction",
    "Drill",
    "DrillError",
    "DrillFileError",
    "DrillsError",
    "EngineError",
    "Movement",
    "Role",
    "RoleKind",
    "RunEngine",
    "RunOutcome",
    "RunState",
    "Segment",
    "SplitResult",
    "Stamp",
    "StartSpec",
    "StartType",
    "check_paths",
    "elapsed_us",
    "load_drill",
    "load_drill_text",
    "load_library",
]
