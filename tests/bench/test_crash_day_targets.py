"""The crash-day targets table (bench/crash_day_targets.py): each figure read from the right run, and the
bar / goal verdicts at their boundaries."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.crash_day_targets import (  # noqa: E402
    MIB,
    TARGETS,
    WORKLOAD_BINANCE,
    WORKLOAD_BURST_1K,
    WORKLOAD_BURST_10K,
    WORKLOAD_MANY,
    WORKLOAD_OKX,
    target_rows,
    verdict,
)


def _run(
    claims: int = 1_000,
    backlog: float = 10.0,
    throughput: float = 100.0,
    ratio: float | None = 0.5,
    weight: float = 0.0,
    p95: float | None = None,
    rss: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    return {
        "claims": claims,
        "backlog_seconds": backlog,
        "throughput_claims_per_second": throughput,
        "ceiling_ratio": ratio,
        "ceiling": {"binance_weight_per_claim": weight},
        "latency": {"p95_seconds": p95},
        "rss": {"baseline_bytes": rss[0], "peak_phase1_bytes": rss[1]},
    }


def test_target_rows__every_workload_run__figures_from_their_runs() -> None:
    runs = {
        WORKLOAD_MANY: _run(throughput=61.0, p95=0.4),
        WORKLOAD_OKX: _run(ratio=0.95, p95=1.5),
        WORKLOAD_BINANCE: _run(ratio=0.899, weight=10.0, p95=None),
        WORKLOAD_BURST_1K: _run(claims=1_000, backlog=100.0),
        WORKLOAD_BURST_10K: _run(claims=10_000, backlog=1_100.0, rss=(200 * MIB, 350 * MIB)),
    }

    rows = target_rows(runs)

    assert [row[4] for row in rows] == ["61.00", "0.95", "0.90", "10.00", "1.10x", "1.50 s", "150.00 MiB"]
    assert [row[5] for row in rows] == [
        "bar met",
        "goal met",
        "**bar missed**",  # 0.899 shows as 0.90 but is below the bar
        "goal met",
        "bar met",
        "bar met",
        "bar met",
    ]


def test_target_rows__no_burst_run__burst_rows_not_run() -> None:
    rows = target_rows({WORKLOAD_MANY: _run()})

    by_name = {row[0]: row for row in rows}
    burst = next(name for name in by_name if name.startswith("10,000-claim burst"))
    assert by_name[burst][4:] == ["not run", "not run"]
    assert by_name[next(n for n in by_name if n.startswith("peak RSS"))][4:] == ["not run", "not run"]


def test_verdict__lower_is_better__boundaries() -> None:
    weight = next(t for t in TARGETS if t.name == "Binance request weight per claim")
    assert (verdict(weight, 10.0), verdict(weight, 10.01), verdict(weight, 20.0)) == (
        "goal met",
        "bar met",
        "bar met",
    )
    assert verdict(weight, 20.01) == "**bar missed**"
