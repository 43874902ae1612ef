"""Keeper throughput against the exchanges' rate limits, latency, memory and the scale curve.

    .venv/bin/python -m bench.keeper [--scale-10k] [--sizes 100,1000] [--okx-accounts 4] [--binance-share 0]

Each run is a child process of its own (so its peak RSS is its own) with a fresh anvil, a freshly deployed and
configured pool, and the simulated exchanges (`keeper/sim`) in-process with their default limits, which are
the published ones (OKX per user and endpoint: `trade/order` 60 / 2 s per instrument, `fills-history`
10 / 2 s; Binance 2400 weight / minute per IP), plus 50 ms latency on every request. The keeper is the real
pipeline (`keeper.app.build_pipeline`: store, audit log, verifier with its client-side limiters, chain
client), driven pass after pass (`Pipeline.run_once`) as the daemon loop will drive it.

Phases of a run:
1. Throughput: N claims are filed (a backlog), then the keeper runs passes until every claim is decided and
   posted. Throughput = N / wall time of those passes. The ceiling is what the rate limits allow for exactly
   the requests this workload made (counted per limit key by the simulator): for each key, requests (or
   weight) / its rate; the slowest key bounds the run; ceiling = N / that time.
2. Latency: M more claims arrive at a steady rate (half the throughput measured in phase 1) while the keeper
   loops; latency = wall time from the claim's transaction being mined to its verdict's transaction being
   mined. p50 / p95.
3. Payouts: the challenge window is passed and the keeper pays every approval.
The comparison run uses one verification worker and batches of one (verdicts and payouts), the shape of the
earlier system, on the same workload.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    on_fresh_chain,
    peak_rss_bytes,
    rss_bytes,
    run_child,
    write_json,
)
from bench.keeper_tables import percentile, tables
from bench.limit_ceiling import ceiling, full_minutes
from bench.pool import RpcFiler, deploy_pool, file_backlog, instrumented_chain, prepare_claims
from bench.sim_process import RemoteSim
from bench.workload import generate_workload

LATENCY_MS = 50
BINANCE_WINDOW_SECONDS = 60
"""Binance counts request weight per IP per minute."""
BUDGET_WAIT_SECONDS = 0.25
"""How long the bench waits after a pass that only found claims waiting for Binance's budget (well under
the daemon's poll interval, so the drain is not slowed by it)."""
SEED = 7_2026


# ------------------------------------------------------------------------------------------ workload


# ------------------------------------------------------------------------------- simulator and chain


class RssSampler:
    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            self._stop.wait(0.1)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


@dataclass
class Plan:
    claims: int
    workers: int
    batch: int
    latency_claims: int
    okx_accounts: int
    binance_accounts: int
    binance_share: float
    bybit_accounts: int
    bybit_share: float
    seed: int
    label: str


# --------------------------------------------------------------------------------------------- a run


def keeper_settings(plan: Plan, tmp: Path, sim_url: str, accounts_file: Path, policy: dict[str, Any]) -> Any:
    """The keeper's settings for a run: every exchange at the simulator, the plan's workers and batches, no
    confirmations (anvil mines at once), its store and audit log under ``tmp``."""
    from keeper.settings import KeeperSettings

    return KeeperSettings(
        _env_file=None,
        okx_base_url=sim_url,
        binance_base_url=sim_url,
        bybit_base_url=sim_url,
        accounts_file=accounts_file,
        verify_workers=plan.workers,
        verify_batch_size=plan.batch,
        payout_batch_size=plan.batch,
        confirmations=0,
        database_path=tmp / "keeper.sqlite3",
        audit_log_path=tmp / "audit.jsonl",
        malformed_dump_dir=tmp / "malformed",
        **policy,  # the generator's policy keys are the settings' names
    )


def keeper_weight_window(settings: Any) -> dict[str, float]:
    """The keeper's own limiter for Binance weight (its limit less the safety margin, per sliding period), as
    the run record keeps it: ``limit`` and ``period_seconds``."""
    from keeper.exchanges import binance

    rate = binance.weight_rate(
        settings.binance_weight_limit_per_minute, settings.binance_weight_safety_margin
    )[binance.WEIGHT_KEY]
    return {"limit": rate.limit, "period_seconds": rate.period_ms / 1000}


def _run(ape: Any, plan: Plan, tmp: Path) -> dict[str, Any]:
    from keeper.app import build_pipeline
    from keeper.chain import ChainClient
    from keeper.sim.server import SimLimits
    from keeper.store import ClaimState
    from operator_toolkit.pool_setup import CHALLENGE_PERIOD

    chain = ape.chain
    pool = deploy_pool(ape)
    guard, validator = pool.guard, pool.validator

    total = plan.claims + plan.latency_claims
    start_time = int(chain.pending_timestamp)
    # 0 accounts: the generator's own density, one account per 8 claims.
    okx_accounts = plan.okx_accounts or max(2, total // 8)
    binance_accounts = plan.binance_accounts or max(2, total // 8)
    bybit_accounts = plan.bybit_accounts or max(2, total // 8)
    scenarios = generate_workload(
        total,
        plan.seed,
        start_time + 60,
        okx_accounts,
        binance_accounts,
        plan.binance_share,
        bybit_accounts,
        plan.bybit_share,
    )
    filer, calls = prepare_claims(ape, pool, scenarios, start_time)

    accounts_file = tmp / "accounts.json"
    scenarios.write_keeper_accounts(accounts_file)
    # The exchanges run in a process of their own, as real ones are remote: their CPU is not the keeper's.
    sim = RemoteSim.start(scenarios, tmp, LATENCY_MS)
    settings = keeper_settings(plan, tmp, sim.url, accounts_file, scenarios.policy)
    bench_chain = instrumented_chain(ChainClient)(guard, validator, chain)
    # Seconds per step of a pass (keeper.pipeline.PASS_STEPS), and of "decide" the time blocked on the
    # exchanges (exchange_wait) and spent posting while verification goes on (post_overlapped).
    step_totals = StepTotals()
    pipeline = build_pipeline(settings, guard, validator, chain, chain=bench_chain, observer=step_totals)
    steps = step_totals.seconds

    # ---- phase 1: a backlog of N claims, drained (the keeper starts on the whole backlog)
    filed_hashes, _ = file_backlog(filer, guard, calls[: plan.claims])
    baseline_rss = rss_bytes()
    started_unix = time.time()  # the simulator's clock: its minutes are Binance's
    with RssSampler() as sampler:
        drain = drain_backlog(pipeline, bench_chain, chain, plan.claims)
    drained, pass_reports = drain.seconds, drain.pass_reports
    passes = len(pass_reports)
    hits_phase1, statuses_phase1 = sim.counts()
    binance_full_minutes = full_minutes(sim.binance_minutes(), started_unix, started_unix + drained)
    steps_phase1 = dict(steps)
    throughput = plan.claims / drained
    limit_ceiling = ceiling(hits_phase1, SimLimits(), plan.claims, started_unix)

    # ---- phase 2: steady arrivals at half the measured throughput, keeper looping
    latencies: list[float] = []
    if plan.latency_claims:
        if plan.binance_share:
            # Steady arrivals, not the backlog's tail: the weight the backlog spent leaves Binance's minute
            # window first. (Without this wait the last arrivals met a minute the backlog had spent and
            # waited for the next one: up to 5.7 s, which is the backlog's latency, not the arrivals'.)
            time.sleep(BINANCE_WINDOW_SECONDS + 1)
        arrivals = calls[plan.claims :]
        latencies, arrival_hashes = steady_arrivals(
            pipeline, bench_chain, chain, filer, guard, arrivals, throughput / 2
        )
        filed_hashes += arrival_hashes

    # ---- phase 3: payouts once the challenge window is over
    chain.mine(timestamp=int(chain.pending_timestamp) + CHALLENGE_PERIOD + 1)
    paid, pay_seconds = pay_approvals(pipeline)

    store = pipeline.store
    approvals = len(store.claims_in_state(ClaimState.PAID))
    receipts = [filer.call("eth_getTransactionReceipt", [h]) for h in filed_hashes]
    failed_filings = sum(1 for r in receipts if int(r["status"], 16) != 1)
    claim_gas = [int(r["gasUsed"], 16) for r in receipts]
    sim.stop()
    store.close()  # the last connection closing checkpoints the WAL into the database file
    db_bytes = sum(
        p.stat().st_size for p in settings.database_path.parent.glob(settings.database_path.name + "*")
    )

    txs = bench_chain.sent
    keeper_gas = sum(t["gas"] for t in txs)
    return {
        "label": plan.label,
        "claims": plan.claims,
        "workers": plan.workers,
        "batch": plan.batch,
        "okx_accounts": okx_accounts,
        "binance_accounts": binance_accounts if plan.binance_share else 0,
        "binance_share": plan.binance_share,
        "bybit_accounts": bybit_accounts if plan.bybit_share else 0,
        "bybit_share": plan.bybit_share,
        "latency_ms_added": LATENCY_MS,
        "backlog_seconds": drained,
        "passes": passes,
        "pass_decided_deferred_posted": pass_reports,
        "deferrals": sum(p[1] for p in pass_reports),
        "throughput_claims_per_second": throughput,
        "ceiling": limit_ceiling,
        "ceiling_ratio": throughput / limit_ceiling["claims_per_second"]
        if limit_ceiling["claims_per_second"]
        else None,
        "backlog_started_unix": started_unix,
        # The least time the limits allow these requests from the backlog's start, over the time taken.
        "least_time_share": limit_ceiling["least_seconds"] / drained,
        "binance_weight_full_minutes": binance_full_minutes,
        "keeper_binance_weight": keeper_weight_window(settings),
        "step_seconds": steps_phase1,
        "statuses": {str(k): v for k, v in statuses_phase1.items()},
        "latency": {
            "claims": len(latencies),
            "of": plan.latency_claims,
            "arrival_rate": throughput / 2 if plan.latency_claims else None,
            "p50_seconds": percentile(latencies, 50),
            "p95_seconds": percentile(latencies, 95),
            "seconds_in_filing_order": [round(value, 3) for value in latencies],
        },
        "rss": {
            "baseline_bytes": baseline_rss,
            "peak_phase1_bytes": sampler.peak,
            "peak_process_bytes": peak_rss_bytes(),
        },
        "transactions": {
            "verify": sum(1 for t in txs if t["kind"] == "verify"),
            "payout": sum(1 for t in txs if t["kind"] == "payout"),
        },
        "gas": {
            "keeper_total": keeper_gas,
            "verify_per_claim": sum(t["gas"] for t in txs if t["kind"] == "verify") / total,
            "payout_per_paid_claim": (
                sum(t["gas"] for t in txs if t["kind"] == "payout") / approvals if approvals else None
            ),
            "keeper_per_claim": keeper_gas / total,
            "submit_claim_mean": statistics.fmean(claim_gas) if claim_gas else None,
            "end_to_end_per_claim": (keeper_gas + sum(claim_gas)) / total,
        },
        "paid": paid,
        "pay_seconds": pay_seconds,
        "failed_filings": failed_filings,
        "rpc_reads": dict(bench_chain.reads),
        "db_bytes": db_bytes,
        "db_bytes_per_claim": db_bytes / total,
        "audit_bytes_per_claim": settings.audit_log_path.stat().st_size / total,
    }


@dataclass
class Drain:
    seconds: float
    """Wall time from the first pass to the last verdict of the backlog mined."""
    pass_reports: list[list[int]]
    """Per pass: the claims it decided, deferred and posted."""


def drain_backlog(pipeline: Any, bench_chain: Any, chain: Any, claims: int) -> Drain:
    """Phase 1: passes until the verdicts of the whole backlog (``claims``) are mined."""
    from keeper.store import ClaimState

    pass_reports: list[list[int]] = []
    started = time.perf_counter()
    while len(bench_chain.posted_at) < claims:
        report = pipeline.run_once()
        pass_reports.append([len(report.decided), len(report.deferred), len(report.posted)])
        if report.waiting_for_budget and not report.decided and not report.transactions:
            # Only claims waiting for Binance's budget: the daemon would wait its poll interval; a pass
            # straight after would re-read the whole backlog for nothing (at 10,000 claims that loop
            # took the keeper's CPU from the workers).
            time.sleep(BUDGET_WAIT_SECONDS)
        if pipeline.store.count_by_state().get(ClaimState.DEFERRED, 0):
            # Deferred claims (rate limited past LG_LIMITER_MAX_WAIT_SECONDS) come due on the chain's
            # clock, which on anvil moves only with blocks; on a live chain it follows the wall clock.
            time.sleep(1)
            chain.mine()
        if time.perf_counter() - started > 3600:
            raise RuntimeError("the keeper does not drain the backlog within an hour")
    return Drain(time.perf_counter() - started, pass_reports)


def steady_arrivals(
    pipeline: Any,
    bench_chain: Any,
    chain: Any,
    filer: RpcFiler,
    guard: Any,
    arrivals: list[tuple[str, str]],
    rate: float,
) -> tuple[list[float], list[str]]:
    """Phase 2: ``arrivals`` filed at ``rate`` per second while the keeper loops. Returns each claim's
    latency (its transaction sent to its verdict's mined), in filing order, and the filing hashes."""
    from keeper.store import ClaimState

    first_id = int(guard.claimCount()) + 1
    total = first_id - 1 + len(arrivals)
    filed_at: dict[int, float] = {}
    hashes: list[str] = []

    def arrive() -> None:
        due = time.perf_counter()
        for offset, (sender, data) in enumerate(arrivals):
            due += 1 / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            hashes.append(filer.send(sender, guard.address, data))
            filed_at[first_id + offset] = time.perf_counter()

    thread = threading.Thread(target=arrive, daemon=True)
    thread.start()
    deadline = time.perf_counter() + len(arrivals) / rate + 600
    while len(bench_chain.posted_at) < total and time.perf_counter() < deadline:
        report = pipeline.run_once()
        if not report.transactions:
            time.sleep(0.05)
        if pipeline.store.count_by_state().get(ClaimState.DEFERRED, 0):
            chain.mine()  # as in phase 1: the chain's clock follows the wall clock
    thread.join()
    latencies = [
        bench_chain.posted_at[cid] - filed_at[cid] for cid in sorted(filed_at) if cid in bench_chain.posted_at
    ]
    return latencies, hashes


def pay_approvals(pipeline: Any) -> tuple[int, float]:
    """Phase 3 (the challenge window over): passes until one pays nothing, at most 5. Returns the claims paid
    and the seconds it took."""
    started = time.perf_counter()
    paid = 0
    for _ in range(5):
        report = pipeline.run_once()
        paid += len(report.paid)
        if not report.paid:
            break
    return paid, time.perf_counter() - started


class StepTotals:
    """The pipeline's ``PassObserver``: seconds per step, added up over every pass."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def step_timed(self, step: str, seconds: float) -> None:
        self.seconds[step] += seconds


# ----------------------------------------------------------------------------------------- reporting


# ------------------------------------------------------------------------------------------ the driver


def _child(plan: Plan) -> dict[str, Any]:
    return run_child(Path(__file__), plan.__dict__, f"run {plan.label} ({plan.claims} claims)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="100,1000", help="scale curve sizes (the largest is the main run)")
    parser.add_argument("--scale-10k", action="store_true", help="add a 10,000-claim run to the scale curve")
    parser.add_argument("--workers", type=int, default=4, help="verify workers of the batched keeper")
    parser.add_argument(
        "--batch", type=int, default=20, help="verdict and payout batch of the batched keeper"
    )
    parser.add_argument("--latency-claims", type=int, default=100)
    parser.add_argument(
        "--okx-accounts", type=int, default=4, help="OKX accounts claims spread over (0: one per 8 claims)"
    )
    parser.add_argument("--binance-accounts", type=int, default=4, help="as --okx-accounts, for Binance")
    parser.add_argument("--binance-share", type=float, default=0.0)
    parser.add_argument("--bybit-accounts", type=int, default=4, help="as --okx-accounts, for Bybit")
    parser.add_argument(
        "--bybit-share", type=float, default=0.0, help="share of Bybit claims (OKX: the rest)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--skip-single", action="store_true", help="no concurrency-1 batch-1 run")
    parser.add_argument("--out", default="keeper.json", help="a file name under bench/results/, or any path")
    args = parser.parse_args(argv)
    if args.child:
        result = on_fresh_chain(_run, Plan(**json.loads(args.child)), "lg-bench-")
        print("RESULT " + json.dumps(result))
        return 0

    sizes = sorted({int(s) for s in args.sizes.split(",")} | ({10_000} if args.scale_10k else set()))
    main_size = max(s for s in sizes if s <= 1_000) if any(s <= 1_000 for s in sizes) else sizes[0]
    common = {
        "okx_accounts": args.okx_accounts,
        "binance_accounts": args.binance_accounts,
        "binance_share": args.binance_share,
        "bybit_accounts": args.bybit_accounts,
        "bybit_share": args.bybit_share,
        "seed": args.seed,
    }
    plans = [
        Plan(
            n,
            args.workers,
            args.batch,
            args.latency_claims if n == main_size else 0,
            label="batched",
            **common,
        )
        for n in sizes
    ]
    if not args.skip_single:
        plans.append(Plan(main_size, 1, 1, args.latency_claims, label="c1-b1", **common))
    results = []
    for plan in plans:
        started = time.perf_counter()
        print(f"running {plan.label}: {plan.claims} claims ...", file=sys.stderr, flush=True)
        results.append(_child(plan))
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    print(tables(results))
    main_run = next(r for r in results if r["label"] == "batched" and r["claims"] == main_size)
    single = next((r for r in results if r["label"] == "c1-b1"), None)
    speedup = single and main_run["throughput_claims_per_second"] / single["throughput_claims_per_second"]
    targets = [
        {
            "target": "throughput >= 0.9 x rate-limit ceiling",
            "value": main_run["ceiling_ratio"],
            "limit": 0.9,
        },
        {"target": "throughput >= 10 x concurrency-1 batch-1", "value": speedup, "limit": 10.0},
    ]
    print()
    for t in targets:
        t["met"] = None if t["value"] is None else t["value"] >= t["limit"]
        shown = "n/a" if t["value"] is None else f"{t['value']:.2f}"
        verdict = "n/a" if t["met"] is None else "MET" if t["met"] else "MISSED"
        print(f"- target {t['target']}: {shown} -> {verdict}")
    path = write_json(args.out, {"runs": results, "targets": targets, "main_size": main_size})
    written = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"\nwrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
