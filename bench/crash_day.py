"""The crash-day bench (issue 15): the keeper on the workloads its targets name, one child process and one
fresh anvil each (``bench/keeper.py``), then the targets table: today, bar, goal and measured side by side.

    .venv/bin/python -m bench.crash_day            # make bench:       many accounts, OKX 4 accounts, Binance
    .venv/bin/python -m bench.crash_day --burst    # make bench-burst: mixed 1,000 and 10,000 claims

Each mode writes its runs to bench/results/ (``crash-day.json``, ``crash-day-burst.json``); the table reads
both files, so the burst rows show the last burst run (or "not run"). The keeper runs with its shipped
settings (``KeeperSettings``' verify workers and batch sizes) unless ``--workers`` / ``--batch`` say
otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from bench.common import RESULTS_DIR, markdown_table, write_json
from bench.crash_day_targets import (
    TARGET_HEADERS,
    WORKLOAD_BINANCE,
    WORKLOAD_BURST_1K,
    WORKLOAD_BURST_10K,
    WORKLOAD_MANY,
    WORKLOAD_OKX,
    burst_footing,
    target_rows,
)
from bench.keeper import SEED, Plan, _child
from bench.keeper_tables import tables

MAIN_FILE = "crash-day.json"
BURST_FILE = "crash-day-burst.json"
BURST_ACCOUNTS_PER_CLAIM = 2_500 / 10_000
"""The burst's density: 2,500 accounts for 10,000 claims (the 1,000-claim run keeps it: 250 accounts)."""


def shipped_keeper_shape() -> tuple[int, int]:
    """The keeper's default verify workers and verdict batch size (what an operator runs on a crash day)."""
    from keeper.settings import KeeperSettings

    fields = KeeperSettings.model_fields
    return int(fields["verify_workers"].default), int(fields["verify_batch_size"].default)


def _mixed(
    claims: int, label: str, workers: int, batch: int, binance_share: float = 1 / 3
) -> tuple[str, Plan]:
    """OKX, Binance and Bybit claims over 2,500 accounts per 10,000 claims; Binance's share as given, OKX and
    Bybit half of the rest each, and the accounts split as the claims."""
    accounts = round(claims * BURST_ACCOUNTS_PER_CLAIM)
    bybit_share = (1 - binance_share) / 2
    binance = round(accounts * binance_share)
    bybit = round(accounts * bybit_share)
    okx = accounts - binance - bybit
    plan = Plan(
        claims,
        workers,
        batch,
        0,
        okx_accounts=okx,
        binance_accounts=binance,
        binance_share=binance_share,
        bybit_accounts=bybit,
        bybit_share=bybit_share,
        seed=SEED,
        label=label,
    )
    return label, plan


def main_plans(workers: int, batch: int, claims: int, latency_claims: int) -> list[tuple[str, Plan]]:
    common: dict[str, Any] = {"seed": SEED, "bybit_accounts": 0, "bybit_share": 0.0}
    return [
        (
            WORKLOAD_MANY,
            Plan(claims, workers, batch, latency_claims, 0, 0, 0.0, label=WORKLOAD_MANY, **common),
        ),
        (
            WORKLOAD_OKX,
            Plan(claims, workers, batch, latency_claims, 4, 0, 0.0, label=WORKLOAD_OKX, **common),
        ),
        # The earlier system's shape on the same workload: the ratio is reported, no longer a target.
        ("c1-b1", Plan(claims, 1, 1, 0, 4, 0, 0.0, label="c1-b1", **common)),
        (
            WORKLOAD_BINANCE,
            Plan(
                max(claims * 3 // 10, 1),
                workers,
                batch,
                latency_claims // 2,
                0,
                4,
                1.0,
                label=WORKLOAD_BINANCE,
                **common,
            ),
        ),
    ]


def burst_plans(workers: int, batch: int, binance_share: float) -> list[tuple[str, Plan]]:
    return [
        _mixed(1_000, WORKLOAD_BURST_1K, workers, batch, binance_share),
        _mixed(10_000, WORKLOAD_BURST_10K, workers, batch, binance_share),
    ]


def _load(name: str) -> dict[str, Any]:
    path = RESULTS_DIR / name
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text()).get("runs", {}))


def report(runs: dict[str, Any]) -> str:
    out = ["## Crash-day targets (issue 15; one run each, ratios within the run)\n"]
    out.append(markdown_table(TARGET_HEADERS, target_rows(runs)))
    by_label = {run["label"]: run for run in runs.values()}
    okx, single = by_label.get(WORKLOAD_OKX), by_label.get("c1-b1")
    if okx and single:
        ratio = okx["throughput_claims_per_second"] / single["throughput_claims_per_second"]
        out.append(
            f"\nOKX 4 accounts, shipped keeper / concurrency-1 batch-1: {ratio:.2f}x (no longer a target)"
        )
    for name in (WORKLOAD_BURST_1K, WORKLOAD_BURST_10K):
        run = by_label.get(name)
        if run is not None:
            binance, bybit = run["binance_share"], run["bybit_share"]
            accounts = run["okx_accounts"] + run["binance_accounts"] + run["bybit_accounts"]
            mix = f"OKX {1 - binance - bybit:.0%} / Binance {binance:.0%} / Bybit {bybit:.0%}"
            out.append(f"{name}: {mix} of the claims, {accounts:,} accounts")
    out += burst_footing(by_label)
    out.append("")
    out.append(tables(list(runs.values())))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--burst", action="store_true", help="the mixed 1,000 / 10,000-claim burst runs")
    parser.add_argument("--workers", type=int, help="verify workers (default: the keeper's setting)")
    parser.add_argument("--batch", type=int, help="verdict and payout batch (default: the keeper's setting)")
    parser.add_argument("--claims", type=int, default=1_000, help="claims per main workload (Binance: 30 %%)")
    parser.add_argument("--latency-claims", type=int, default=100)
    parser.add_argument("--only", help="run only the workloads whose name contains this")
    parser.add_argument(
        "--binance-share",
        type=float,
        default=1 / 3,
        help="--burst: Binance's share of the claims (OKX and Bybit half of the rest each); the weight "
        "budget binds Binance at ~1 claim/s per IP, so a third of 10,000 claims takes most of an hour",
    )
    args = parser.parse_args(argv)
    default_workers, default_batch = shipped_keeper_shape()
    workers, batch = args.workers or default_workers, args.batch or default_batch
    plans = (
        burst_plans(workers, batch, args.binance_share)
        if args.burst
        else main_plans(workers, batch, args.claims, args.latency_claims)
    )
    if args.only:
        plans = [(name, plan) for name, plan in plans if args.only in name]
    own_file = BURST_FILE if args.burst else MAIN_FILE
    runs = _load(own_file)
    for name, plan in plans:
        started = time.perf_counter()
        print(
            f"running {name}: {plan.claims} claims, {plan.workers} workers / batch {plan.batch} ...",
            file=sys.stderr,
        )
        runs[name] = _child(plan)
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        write_json(own_file, {"runs": runs, "workers": workers, "batch": batch})  # a late failure keeps these
    other = _load(MAIN_FILE if args.burst else BURST_FILE)
    print(report({**other, **runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
