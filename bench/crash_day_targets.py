"""The crash-day targets of issue 15, and the figures each one reads from a keeper bench run.

Pure: a run is the dict ``bench/keeper.py`` returns (``RESULT`` line, also in the results JSON). The table
puts the issue's "today" (measured 2026-12-01 before the work), its bar and its goal beside the measured
figure, so ``make bench`` / ``make bench-burst`` show at a glance which bars and goals are met.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bench.limit_ceiling import LimitWindow, ratio_at, ratio_bands

Run = Mapping[str, Any]
MIB = 2**20

WORKLOAD_MANY = "many accounts"
WORKLOAD_OKX = "OKX, 4 accounts"
WORKLOAD_BINANCE = "Binance only"
WORKLOAD_BURST_1K = "mixed, 1,000 claims"
WORKLOAD_BURST_10K = "mixed, 10,000 claims"


@dataclass(frozen=True)
class Target:
    name: str
    today: str
    bar: float
    goal: float
    higher_is_better: bool
    measure: Callable[[Mapping[str, Run]], float | None]
    """The measured figure from the runs by workload; None when a run it needs was not made."""
    unit: str = ""

    def met(self, value: float, threshold: float) -> bool:
        return value >= threshold if self.higher_is_better else value <= threshold


def _throughput(runs: Mapping[str, Run], workload: str) -> float | None:
    run = runs.get(workload)
    return None if run is None else float(run["throughput_claims_per_second"])


def _ceiling_ratio(runs: Mapping[str, Run], workload: str) -> float | None:
    run = runs.get(workload)
    return None if run is None or run["ceiling_ratio"] is None else float(run["ceiling_ratio"])


def _binance_weight(runs: Mapping[str, Run]) -> float | None:
    run = runs.get(WORKLOAD_BINANCE)
    return None if run is None else float(run["ceiling"]["binance_weight_per_claim"])


def _burst_ratio(runs: Mapping[str, Run]) -> float | None:
    small, large = runs.get(WORKLOAD_BURST_1K), runs.get(WORKLOAD_BURST_10K)
    if small is None or large is None:
        return None
    per_claim = [run["backlog_seconds"] / run["claims"] for run in (small, large)]
    return float(per_claim[1] / per_claim[0])


def burst_footing(runs: Mapping[str, Run]) -> list[str]:
    """How the burst runs stand against the least time their own limits allow (``bench/limit_ceiling.py``),
    beside the issue's figure: Binance's clock minutes give the minute a run starts in a whole budget, about a
    quarter of a 1,000-claim run's budgets and a fortieth of a 10,000-claim run's. Empty without both runs (or
    from a run recorded before the least time was)."""
    small, large = runs.get(WORKLOAD_BURST_1K), runs.get(WORKLOAD_BURST_10K)
    if small is None or large is None or "least_time_share" not in small or "least_time_share" not in large:
        return []
    lines = []
    for run in (small, large):
        least, taken = run["ceiling"]["least_seconds"], run["backlog_seconds"]
        minutes = run["binance_weight_full_minutes"]
        pace = f"{sum(minutes) / len(minutes):,.0f}" if minutes else "no whole minute"
        lines.append(
            f"{run['claims']:,} claims: {taken:,.1f} s against a least time of {least:,.1f} s "
            f"({run['least_time_share']:.2f} of it; {run['ceiling']['least_binding_key']}); "
            f"Binance weight per whole clock minute {pace} over {len(minutes)} minutes"
        )
    footing = small["least_time_share"] / large["least_time_share"]
    lines.append(
        f"time per claim vs the 1,000-claim run, each run against its least time: {footing:.2f}x "
        f"(the issue's figure, against wall time alone: {_burst_ratio(runs) or 0:.2f}x)"
    )
    if "keeper_binance_weight" in small and "keeper_binance_weight" in large:
        lines += _own_limit_lines(small, large)
    return lines


def _own_limit_lines(small: Run, large: Run) -> list[str]:
    """Both runs held to the keeper's own Binance limiter alone (a sliding window): the time it allows each,
    the issue's figure it gives at the runs' weights per claim, and the weights at which it meets the bar."""
    window = LimitWindow(**small["keeper_binance_weight"])
    sizes = [
        (run["claims"], round(run["claims"] * run["ceiling"]["binance_weight_per_claim"]))
        for run in (small, large)
    ]
    allowed = [window.least_seconds(units, 0.0) for _, units in sizes]
    shares = ", ".join(
        f"{claims:,} claims {seconds:,.1f} s ({seconds / run['backlog_seconds']:.2f} of the time taken)"
        for (claims, _), seconds, run in zip(sizes, allowed, (small, large), strict=True)
    )
    modelled = ratio_at(window, sizes[0], sizes[1])
    weights = ", ".join(f"{units / claims:.2f}" for claims, units in sizes)
    bands = ", ".join(str(band) for band in ratio_bands(window, sizes[0][0], sizes[1][0], BURST_TARGET.bar))
    figure = "no figure (the small run fits one window)" if modelled is None else f"{modelled:.2f}x"
    return [
        f"held to the keeper's own Binance limit alone ({window.limit:,} weight per "
        f"{window.period_seconds:g} s, sliding): {shares}",
        f"that limit alone gives the issue's figure {figure} at these weights per claim ({weights}); it is "
        f"<= {BURST_TARGET.bar:.2f}x only for a weight per claim in {bands}",
    ]


BURST_TARGET = Target(
    "10,000-claim burst (mixed, 2,500 accounts): time per claim vs the 1,000-claim run",
    "not run",
    1.10,
    1.0,
    False,
    _burst_ratio,
    "x",
)


def _worst_latency_p95(runs: Mapping[str, Run]) -> float | None:
    """The highest p95 over the workloads whose latency phase ran (the bar holds on every workload)."""
    values = [float(r["latency"]["p95_seconds"]) for r in runs.values() if r["latency"]["p95_seconds"]]
    return max(values) if values else None


def _rss_growth_mib(runs: Mapping[str, Run]) -> float | None:
    run = runs.get(WORKLOAD_BURST_10K)
    if run is None:
        return None
    return float((run["rss"]["peak_phase1_bytes"] - run["rss"]["baseline_bytes"]) / MIB)


TARGETS: tuple[Target, ...] = (
    Target(
        "many accounts (limits never bind): claims decided and posted per second",
        "22",
        60,
        100,
        True,
        lambda runs: _throughput(runs, WORKLOAD_MANY),
    ),
    Target(
        "OKX, 4 accounts: share of the rate-limit ceiling",
        "0.59",
        0.85,
        0.95,
        True,
        lambda runs: _ceiling_ratio(runs, WORKLOAD_OKX),
    ),
    Target(
        "Binance, per-IP weight: share of the ceiling",
        "0.84",
        0.90,
        0.97,
        True,
        lambda runs: _ceiling_ratio(runs, WORKLOAD_BINANCE),
    ),
    Target("Binance request weight per claim", "35", 20, 10, False, _binance_weight),
    BURST_TARGET,
    Target(
        "latency p95, claim mined -> verdict mined, arrivals at half throughput (worst workload)",
        "0.69 s (4 acc.)",
        2.0,
        1.0,
        False,
        _worst_latency_p95,
        " s",
    ),
    Target(
        "peak RSS growth of the keeper at 10,000 claims", "not run", 150, 80, False, _rss_growth_mib, " MiB"
    ),
)


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return "not run"
    return f"{value:,.2f}{unit}"


def verdict(target: Target, value: float | None) -> str:
    if value is None:
        return "not run"
    if target.met(value, target.goal):
        return "goal met"
    return "bar met" if target.met(value, target.bar) else "**bar missed**"


def target_rows(runs: Mapping[str, Run]) -> list[list[str]]:
    rows = []
    for target in TARGETS:
        sign = ">=" if target.higher_is_better else "<="
        value = target.measure(runs)
        rows.append(
            [
                target.name,
                target.today,
                f"{sign} {target.bar:g}{target.unit}",
                f"{sign} {target.goal:g}{target.unit}",
                _shown(value, target.unit),
                verdict(target, value),
            ]
        )
    return rows


TARGET_HEADERS = ["workload", "today", "bar", "goal", "measured", ""]
