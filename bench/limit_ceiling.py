"""What the exchanges' rate limits allow a run: claims per second in the steady state, and the least time
they allow the run's own requests from the moment it started.

Pure: the requests are the simulator's counts per rate-limit key (``bench/sim_process.py``), the limits its
``SimLimits`` (the published ones by default).

Two figures, because they differ for a run of a few windows:

- **Steady state** (``min_seconds``, ``claims_per_second``): units / rate for each key. A long run cannot beat
  it; a short one can, by the budget of the first window.
- **Least time** (``least_seconds``): the same requests sent as early as each window lets them. A sliding
  window of ``limit`` per ``period`` lets ``limit`` go at once and ``limit`` more each ``period`` after:
  ``(ceil(units / limit) - 1) * period``. A clock window (Binance's weight per clock minute) gives a whole
  budget to the minute the run starts in however little of it is left, so the least time also depends on
  when in the minute the run began: ``max(0, (first_minute + ceil(units / limit) - 1) * period - start)``.

And what the sliding window alone does to a comparison of two runs' time per claim (``ratio_bands``): a run's
least time moves in whole periods, so the ratio of a large run's time per claim to a small run's is a sawtooth
in the weight per claim, not a measure of the keeper.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from bench.sim_process import BINANCE_WEIGHT

BYBIT_IP = "bybit ip"
BYBIT_PER_UID_ENDPOINTS = (
    "order/history",
    "execution/list",
    "position/closed-pnl",
    "account/transaction-log",
)


@dataclass(frozen=True)
class LimitWindow:
    """At most ``limit`` units per ``period_seconds``; ``clock_aligned``: counted per fixed clock period
    (Binance's minute) rather than over the last ``period_seconds``."""

    limit: int
    period_seconds: float
    clock_aligned: bool = False

    @property
    def rate(self) -> float:
        return self.limit / self.period_seconds

    def steady_seconds(self, units: int) -> float:
        return units / self.rate

    def least_seconds(self, units: int, started_unix: float) -> float:
        """The least time from ``started_unix`` in which the window lets ``units`` through."""
        windows = math.ceil(units / self.limit)
        if windows <= 1:
            return 0.0
        if not self.clock_aligned:
            return (windows - 1) * self.period_seconds
        first = math.floor(started_unix / self.period_seconds)
        return max(0.0, (first + windows - 1) * self.period_seconds - started_unix)


@dataclass(frozen=True)
class WeightBand:
    """Weights per claim above ``above`` and at most ``up_to`` (``None``: every weight above ``above``)."""

    above: float
    up_to: float | None

    def __str__(self) -> str:
        return f"above {self.above:.2f}" if self.up_to is None else f"({self.above:.2f}, {self.up_to:.2f}]"


def ratio_at(window: LimitWindow, small: tuple[int, int], large: tuple[int, int]) -> float | None:
    """The large run's least time per claim over the small run's, each run given as ``(claims, units)`` and
    held to the sliding ``window`` alone; ``None`` when the small run's units fit one window (no time)."""
    (small_claims, small_units), (large_claims, large_units) = small, large
    small_seconds = window.least_seconds(small_units, 0.0)
    if not small_seconds:
        return None
    return (window.least_seconds(large_units, 0.0) / large_claims) / (small_seconds / small_claims)


def ratio_bands(window: LimitWindow, small_claims: int, large_claims: int, bar: float) -> list[WeightBand]:
    """The weights per claim at which ``ratio_at`` (the same weight per claim in both runs) is ``<= bar``.

    With ``b = limit / small_claims`` and a small run of ``m + 1`` windows (weights in ``(m b, (m + 1) b]``),
    the ratio is ``(ceil(large_claims w / limit) - 1) / (m large_claims / small_claims)``, which is at most
    ``bar`` up to ``w = (floor(bar m large_claims / small_claims) + 1) limit / large_claims``. From
    ``m >= 1 / (bar - 1)`` that reaches ``(m + 1) b``: every heavier weight meets the bar.
    """
    if window.clock_aligned:
        raise ValueError("ratio_bands models a sliding window; a clock window also depends on the start")
    exact_bar = Fraction(str(bar))
    if exact_bar <= 1:
        raise ValueError(
            f"a bar of {bar} never covers every heavier weight, so its bands never end: give one above 1"
        )
    scale = Fraction(large_claims, small_claims)
    always_from = math.ceil(1 / (exact_bar - 1))
    bands: list[tuple[Fraction, Fraction | None]] = []

    def add(above: Fraction, up_to: Fraction | None) -> None:
        if bands and bands[-1][1] == above:
            above = bands.pop()[0]
        bands.append((above, up_to))

    for m in range(1, always_from):
        above = Fraction(m * window.limit, small_claims)
        fits = Fraction((math.floor(exact_bar * m * scale) + 1) * window.limit, large_claims)
        # Never empty: floor(x) + 1 > x >= m large_claims / small_claims, as the bar is above 1.
        add(above, min(fits, Fraction((m + 1) * window.limit, small_claims)))
    add(Fraction(always_from * window.limit, small_claims), None)
    return [WeightBand(float(a), None if u is None else float(u)) for a, u in bands]


def limit_windows(limits: Any) -> dict[str, LimitWindow]:
    """The window of every rate-limit key the simulator enforces, from its ``SimLimits``."""
    from keeper.sim.okx import PUBLISHED_PER_2S

    okx_seconds = limits.okx_window_ms / 1000
    windows = {
        f"okx {endpoint}": LimitWindow(limit, okx_seconds)
        for endpoint, limit in {**PUBLISHED_PER_2S, **limits.okx_per_2s}.items()
    }
    windows[BINANCE_WEIGHT] = LimitWindow(limits.binance_weight_per_minute, 60.0, clock_aligned=True)
    windows[BYBIT_IP] = LimitWindow(limits.bybit_ip_per_5s, 5.0)
    for endpoint in BYBIT_PER_UID_ENDPOINTS:
        windows[f"bybit {endpoint}"] = LimitWindow(limits.bybit_per_uid_per_s, 1.0)
    return windows


def ceiling(
    hits: Counter[tuple[str, str]], limits: Any, claims: int, started_unix: float | None = None
) -> dict[str, Any]:
    """Claims per second the limits allow for these requests (the slowest key decides), and, given when the
    run started, the least time they allow it."""
    windows = limit_windows(limits)
    slowest, seconds = "", 0.0
    least_key, least = "", 0.0
    for (name, scope), count in hits.items():
        window = windows.get(name)
        if window is None:
            continue
        steady = window.steady_seconds(count)
        if steady > seconds:
            slowest, seconds = _key(name, scope), steady
        quickest = 0.0 if started_unix is None else window.least_seconds(count, started_unix)
        if quickest > least:
            least_key, least = _key(name, scope), quickest
    per_endpoint: Counter[str] = Counter()
    for (name, _scope), count in hits.items():
        if name not in (BINANCE_WEIGHT, BYBIT_IP):
            per_endpoint[name] += count
    return {
        "binding_key": slowest,
        "min_seconds": seconds,
        "claims_per_second": claims / seconds if seconds else None,
        "least_seconds": least if started_unix is not None else None,
        "least_binding_key": least_key if started_unix is not None else None,
        "requests_per_claim": {name: count / claims for name, count in sorted(per_endpoint.items())},
        "binance_weight_per_claim": sum(c for (n, _), c in hits.items() if n == BINANCE_WEIGHT) / claims,
    }


def full_minutes(weight_by_minute: Mapping[int, int], started_unix: float, ended_unix: float) -> list[int]:
    """Binance weight spent in each clock minute wholly inside ``started_unix .. ended_unix``, in order (0 for
    a minute that spent none): the keeper's pace once the first minute's budget is behind it."""
    first = math.ceil(started_unix / 60)
    last = math.floor(ended_unix / 60)  # the minute starting here ends after the run
    return [int(weight_by_minute.get(minute, 0)) for minute in range(first, last)]


def _key(name: str, scope: str) -> str:
    return f"{name} [{scope[:12]}]"
