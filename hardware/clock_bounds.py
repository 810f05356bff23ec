"""What PING/PONG windows prove about a device clock's rate, whatever the delays were.

Each exchange says the device read `x` ticks (relative to the newest exchange) at some host
time between `lo` and `hi`. A line `host = offset + c * x` agrees with every exchange at rate
`c` exactly when the band of offsets left, `max(lo - c*x)` to `min(hi - c*x)`, is not empty.
That width is concave in `c` (a minimum of lines minus a maximum of lines), so the rates that
agree with all exchanges form one interval. Any rate outside it is contradicted by two
exchanges, so the true rate is inside it as long as the windows are honest (the host stamps
the send before the write and the receipt after the read: hardware/link.py).

A statistical fit of the rate can be off by more than its own scatter says when the host is
busy (a thread that wakes late puts a tail on the edge the fit takes as quiet); this interval
cannot be, which is why the clock model keeps its estimate within it (and states the
distance to its far end as the error of a rate it falls back on).
"""

from __future__ import annotations

from collections.abc import Sequence

# Newton steps from either end of the search range: each lands on the next piece of the
# piecewise-linear width, so a handful is the norm; the cap only guards against rounding.
MAX_STEPS = 64
# A width this far below zero (in microseconds) counts as touching: rounding, not a conflict.
TOUCH_US = 1e-3


def width_and_slope(
    c: float, xs: Sequence[float], los: Sequence[float], his: Sequence[float]
) -> tuple[float, float]:
    """The band of agreeing offsets at rate `c`: its width, and a slope of the width in `c`
    (a supergradient where two exchanges tie, which is all the search below needs)."""
    lowers = [lo - c * x for lo, x in zip(los, xs, strict=True)]
    uppers = [hi - c * x for hi, x in zip(his, xs, strict=True)]
    lower, upper = max(lowers), min(uppers)
    return upper - lower, xs[lowers.index(lower)] - xs[uppers.index(upper)]


def agreeing_rates(
    xs: Sequence[float],
    los: Sequence[float],
    his: Sequence[float],
    c_min: float,
    c_max: float,
) -> tuple[float, float] | None:
    """The interval of rates (host microseconds per tick) within [c_min, c_max] that agree
    with every exchange, or None if none does.

    Newton's method on a concave function, started outside its root, approaches the root
    monotonically and never crosses it, so each end is reached from outside: an end that
    stops short of the cap errs wide, never narrow.
    """
    high = _edge(xs, los, his, start=c_max, stop=c_min)
    if high is None:
        return None
    low = _edge(xs, los, his, start=c_min, stop=high)
    return None if low is None else (low, high)


def _edge(
    xs: Sequence[float], los: Sequence[float], his: Sequence[float], start: float, stop: float
) -> float | None:
    """Walk from `start` towards `stop` to the first rate that agrees with every exchange."""
    toward_stop = 1.0 if stop > start else -1.0
    c = start
    for _ in range(MAX_STEPS):
        width, slope = width_and_slope(c, xs, los, his)
        if width >= -TOUCH_US:
            return c
        # The width grows towards the interval; if it does not, no rate on the way agrees.
        if slope * toward_stop <= 0:
            return None
        c -= width / slope
        if (c - stop) * toward_stop > 0:
            return None
    return c


def anchor_offsets(
    xs: Sequence[float], los: Sequence[float], his: Sequence[float], c_low: float, c_high: float
) -> tuple[float, float]:
    """The offsets at `x == 0` (the anchor) of every line whose rate is in [c_low, c_high]
    and which agrees with every exchange: the lowest any of them starts at, the highest.

    The band's lower edge is a maximum of lines in the rate (convex) and its upper edge a
    minimum (concave), so each has one extreme on the interval. A fit whose rate is off moves
    its offset by no more than this range, which is far tighter than the rate's error times
    the whole window.
    """
    lowest = _least_of_max(los, [-x for x in xs], c_low, c_high)
    highest = -_least_of_max([-hi for hi in his], xs, c_low, c_high)
    return lowest, highest


def _least_of_max(ks: Sequence[float], ms: Sequence[float], a: float, b: float) -> float:
    """A lower bound, exact to rounding, of the least value on [a, b] of max(k + m*c).

    Cutting planes: the lines active at the two ends meet at a rate whose own active line
    either touches their meeting point (then that is the least value) or replaces the end on
    its side. Each step retires a piece of the function, so a few steps are the norm.
    """

    def active(c: float) -> tuple[float, float, float]:
        values = [k + m * c for k, m in zip(ks, ms, strict=True)]
        value = max(values)
        i = values.index(value)
        return value, ks[i], ms[i]

    value_a, k_a, m_a = active(a)
    if m_a >= 0:
        return value_a
    value_b, k_b, m_b = active(b)
    if m_b <= 0:
        return value_b
    floor = min(value_a, value_b)
    for _ in range(MAX_STEPS):
        c = (k_b - k_a) / (m_a - m_b)
        floor = k_a + m_a * c  # both lines lie below the function: nothing on [a, b] is lower
        value, k, m = active(c)
        if value - floor <= TOUCH_US:
            return floor
        if m < 0:
            k_a, m_a = k, m
        elif m > 0:
            k_b, m_b = k, m
        else:
            return value
    return floor
