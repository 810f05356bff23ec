"""Report metrics for timed drills: pure arithmetic, no I/O, standard library only.

Every time here is a float number of **seconds** (names end in `_s`); the run engine's integer
microseconds are converted by the caller. Distances are metres, percentages are 0-100.

Two ways of saying "not enough data", chosen per function and stated in each docstring:

- `None` where too little data is an ordinary outcome of a session (the CV of an athlete who
  ran one valid rep, a summary of reps that were all voided). A report shows a dash.
- `ValueError` where a value cannot be computed from what was passed (an empty list, a zero
  or negative time, a typical error from one pair). Those are caller mistakes or bad data,
  and a report built on them would mislead, so they fail loudly.

The parts: `reps` (which reps count; best, mean, CV), `comparisons` (COD deficit, left/right
asymmetry), `forward_backward` (the backward ÷ forward ratio), `rsa` (repeated sprints) and
`change` (typical error, SWC, z, change from baseline). Callers import from here.
"""

from drills.metrics.change import (
    BaselineChange,
    ChangeDirection,
    baseline_change,
    smallest_worthwhile_change,
    t_score,
    typical_error,
    z_score,
)
from drills.metrics.comparisons import ASYMMETRY_FLAG_PCT, Asymmetry, Side, asymmetry, cod_deficit
from drills.metrics.forward_backward import (
    DirectionalRep,
    ForwardBackward,
    forward_backward_ratio,
    pair_forward_backward,
)
from drills.metrics.reps import (
    RepSummary,
    RepTime,
    best,
    cv_pct,
    mean,
    summarise_reps,
    valid_reps,
    valid_times,
)
from drills.metrics.rsa import (
    RSA_CAVEAT,
    RsaSummary,
    fatigue_index_pct,
    rsa_summary,
    sprint_decrement_pct,
)

__all__ = [
    "ASYMMETRY_FLAG_PCT",
    "RSA_CAVEAT",
    "Asymmetry",
    "BaselineChange",
    "ChangeDirection",
    "DirectionalRep",
    "ForwardBackward",
    "RepSummary",
    "RepTime",
    "RsaSummary",
    "Side",
    "asymmetry",
    "baseline_change",
    "best",
    "cod_deficit",
    "cv_pct",
    "fatigue_index_pct",
    "forward_backward_ratio",
    "mean",
    "pair_forward_backward",
    "rsa_summary",
    "smallest_worthwhile_change",
    "sprint_decrement_pct",
    "summarise_reps",
    "t_score",
    "typical_error",
    "valid_reps",
    "valid_times",
    "z_score",
]
