"""Keeper throughput against the exchanges' rate limits, latency, memory and the scale curve.

    .venv/bin/python bench/keeper.py [--scale-10k] [--sizes 100,1000] [--okx-accounts 4] [--binance-share 0]

Each run is a child process of its own (so its peak RSS is its own) with a fresh anvil, a freshly deployed and
configured pool, and the simulated exchanges (`keeper/sim`) in-process with their default limits, which are
the published ones (OKX per user and endpoint: `trade/order` 60 / 2 s per instrument, `fills-history`
10 / 2 s; Binance 2400 weight / minute per IP), plus 50 ms latency on every request. The keeper is the real
pipeline (`keeper.cli_run.build_pipeline`: store, audit log, verifier with its client-side limiters, chain
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
import contextlib
import json
import statistics
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    markdown_table,
    on_fresh_chain,
    peak_rss_bytes,
    rss_bytes,
    run_child,
    write_json,
)
from bench.sim_process import RemoteSim

USDT = 10**6
DAY_SCALE = (
    3_000  # generator "days" squeezed to 50 min: every liquidation lands inside the 7-day claim window
)
LATENCY_MS = 50
BINANCE_WINDOW_SECONDS = 60
"""Binance counts request weight per IP per minute."""
FILING_CHUNK = 500
BUDGET_WAIT_SECONDS = 0.25
"""How long the bench waits after a pass that only found claims waiting for Binance's budget (well under
the daemon's poll interval, so the drain is not slowed by it)."""
SEED = 7_2026
# Scenario kinds that a trader can file on chain at any time (the ones left out depend on filing times or on a
# policy the contract itself refuses: outside coverage, expired window, no remaining coverage).
OKX_KINDS = (
    "full_liquidation",
    "partial_liquidation",
    "adl",
    "normal_close",
    "liquidation_without_loss",
    "order_of_other_account",
    "unknown_order",
)
BINANCE_KINDS = tuple(k for k in OKX_KINDS if k != "partial_liquidation")
BYBIT_KINDS = OKX_KINDS  # order/history's createType tells a laddered (partial) liquidation from a takeover
APPROVING = {"full_liquidation", "partial_liquidation"}


# ------------------------------------------------------------------------------------------ workload


@contextlib.contextmanager
def _generator_clock(anchor: int) -> Iterator[Any]:
    from keeper.sim import generator

    saved = generator.DAY
    generator.DAY = DAY_SCALE
    try:
        yield generator
    finally:
        generator.DAY = saved


GOLDEN_FRACTION = 0.6180339887498949


def exchange_of(index: int, binance_share: float, bybit_share: float) -> str:
    """The exchange of claim ``index``: the shares evenly spread along the claims (a low-discrepancy sequence,
    so that any prefix of the workload has about the same mix)."""
    position = (index * GOLDEN_FRACTION) % 1.0
    if position < binance_share:
        return "binance"
    return "bybit" if position < binance_share + bybit_share else "okx"


def generate_workload(
    count: int,
    seed: int,
    anchor: int,
    okx_accounts: int,
    binance_accounts: int,
    binance_share: float,
    bybit_accounts: int = 0,
    bybit_share: float = 0.0,
) -> Any:
    """The simulator's generator with a chosen number of accounts and exchange mix (``binance_share`` and
    ``bybit_share`` of the claims, OKX the rest); kinds weighted as the generator weights them (approvals
    4 : 1)."""
    if binance_share + bybit_share > 1:
        raise ValueError(f"binance_share {binance_share} + bybit_share {bybit_share} is more than 1")
    kinds_of = {"okx": OKX_KINDS, "binance": BINANCE_KINDS, "bybit": BYBIT_KINDS}
    with _generator_clock(anchor) as generator:

        class BenchGenerator(generator.ScenarioGenerator):  # type: ignore[misc, name-defined]
            def generate(self, count: int) -> Any:
                for _ in range(okx_accounts):
                    self._account("okx")
                for _ in range(binance_accounts if binance_share > 0 else 0):
                    self._account("binance")
                for _ in range(bybit_accounts if bybit_share > 0 else 0):
                    self._account("bybit")
                for index in range(count):
                    exchange = exchange_of(index, binance_share, bybit_share)
                    kinds = kinds_of[exchange]
                    weights = [4 if k in APPROVING else 1 for k in kinds]
                    self._scenario(exchange, self.rng.choices(kinds, weights=weights)[0])
                return self.scenario_file()

        return BenchGenerator(seed, anchor=anchor).generate(count)


# ------------------------------------------------------------------------------- simulator and chain


def ceiling(hits: Counter[tuple[str, str]], limits: Any, claims: int) -> dict[str, Any]:
    """Claims per second the published limits allow for these requests: the slowest limit key decides."""
    from keeper.sim.okx import PUBLISHED_PER_2S

    # units per second, per key: the simulator's limits, which default to the published ones
    okx_limits = {**PUBLISHED_PER_2S, **limits.okx_per_2s}
    rates: dict[str, float] = {
        f"okx {endpoint}": limit / (limits.okx_window_ms / 1000) for endpoint, limit in okx_limits.items()
    }
    rates["binance weight"] = limits.binance_weight_per_minute / 60
    rates["bybit ip"] = limits.bybit_ip_per_5s / 5
    for endpoint in ("order/history", "execution/list", "position/closed-pnl", "account/transaction-log"):
        rates[f"bybit {endpoint}"] = limits.bybit_per_uid_per_s
    slowest, seconds = "", 0.0
    for (name, scope), count in hits.items():
        rate = rates.get(name)
        if rate is None:
            continue
        if count / rate > seconds:
            slowest, seconds = f"{name} [{scope[:12]}]", count / rate
    per_endpoint: Counter[str] = Counter()
    for (name, _scope), count in hits.items():
        if name not in ("binance weight", "bybit ip"):
            per_endpoint[name] += count
    return {
        "binding_key": slowest,
        "min_seconds": seconds,
        "claims_per_second": claims / seconds if seconds else None,
        "requests_per_claim": {name: count / claims for name, count in sorted(per_endpoint.items())},
        "binance_weight_per_claim": sum(c for (n, _), c in hits.items() if n == "binance weight") / claims,
    }


class RpcFiler:
    """Files claims straight over JSON-RPC (anvil impersonates the traders), off ape's provider, so a filer
    thread can run beside the keeper."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._id = 0

    def call(self, method: str, params: list[Any]) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}).encode()
        request = urllib.request.Request(self.uri, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = json.loads(response.read())
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def send(self, sender: str, to: str, data: str) -> str:
        return str(
            self.call("eth_sendTransaction", [{"from": sender, "to": to, "data": data, "gas": hex(400_000)}])
        )


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


@dataclass
class BenchPool:
    """A pool deployed and configured for a bench run, funded far beyond any workload's payouts."""

    guard: Any
    validator: Any
    registrar: Any
    signers: list[Any]


def deploy_pool(ape: Any) -> BenchPool:
    from lg_testkit import Governance, configure, deploy_guard

    project, test = ape.project, ape.accounts.test_accounts
    signers, guardian, validator, registrar, sponsor = list(test[0:3]), test[3], test[4], test[5], test[8]
    token = signers[0].deploy(project.TestUSDT)
    guard = deploy_guard(project, signers[0], token, signers, 2)
    configure(guard, signers, guardian, validator, registrar)
    gov = Governance(guard, signers)
    gov(guard.setDailyPayoutLimit, 10**12 * USDT)
    # 1.1's caps (configure sets test-sized ones): a bench of thousands of claims must not be held by them.
    gov(guard.setDailyApprovalLimit, 10**12 * USDT)
    gov(guard.setMaxCoverageLimit, 10**12 * USDT)
    token.mint(sponsor, 10**10 * USDT, sender=sponsor)
    token.approve(guard, 10**10 * USDT, sender=sponsor)
    guard.deposit(10**10 * USDT, sender=sponsor)
    return BenchPool(guard, validator, registrar, signers)


def prepare_claims(
    ape: Any, pool: BenchPool, scenarios: Any, start_time: int
) -> tuple[RpcFiler, list[tuple[str, str]]]:
    """Whitelists one trader per exchange account (coverage far above anything the workload claims), moves
    the chain past the last liquidation, and encodes every claim's ``submitClaim`` as (trader, calldata)."""
    from keeper.interface import Exchange

    chain, guard = ape.chain, pool.guard
    filer = RpcFiler(chain.provider.http_uri)
    filer.call("anvil_autoImpersonateAccount", [True])
    trader_of: dict[str, str] = {}
    for i, account in enumerate(scenarios.accounts):
        trader_of[account.account_ref] = address = "0x" + f"{0xB0000 + i:040x}"
        filer.call("anvil_setBalance", [address, hex(10**20)])
    refs = list(trader_of)
    for i in range(0, len(refs), 200):
        chunk = refs[i : i + 200]
        guard.addToWhitelist(
            [trader_of[r] for r in chunk],
            [bytes.fromhex(r[2:]) for r in chunk],
            10**12 * USDT,
            start_time + 365 * 86_400,
            sender=pool.registrar,
        )
    # Every liquidation is at most 30 squeezed days after the anchor; file after the last one.
    chain.mine(timestamp=start_time + 60 + 31 * DAY_SCALE)
    calls = []
    for expected in scenarios.expected:
        c = expected.claim
        data = guard.submitClaim.encode_input(
            Exchange.from_slug(c["exchange"]), c["order_id"], c["instrument"], c["claimed_loss"]
        )
        calls.append((trader_of[c["account_ref"]], "0x" + bytes(data).hex()))
    return filer, calls


def file_backlog(filer: RpcFiler, guard: Any, calls: list[tuple[str, str]]) -> tuple[list[str], float]:
    """Files ``calls`` as a backlog: their transaction hashes, and when (``time.perf_counter``) the first
    block of claims was mined (a keeper already running sees claims from then on).

    anvil answers before it has mined everything, and a pool of thousands of pending transactions mines
    slower and slower: file in chunks, each mined before the next. With automine, anvil made one block per
    claim, and at 10,000 claims it held 11 GB and mined 10 blocks/s (ape-foundry runs it with
    --steps-tracing): a chunk is mined in as few blocks as its gas fits instead. Automine is back on after.
    """
    hashes: list[str] = []
    first_mined: float | None = None
    first = int(guard.claimCount())
    filer.call("evm_setAutomine", [False])
    try:
        for start in range(0, len(calls), FILING_CHUNK):
            chunk = calls[start : start + FILING_CHUNK]
            hashes += [filer.send(sender, guard.address, data) for sender, data in chunk]
            waited = time.perf_counter()
            while int(guard.claimCount()) < first + start + len(chunk):
                if time.perf_counter() - waited > 120:
                    mined = int(guard.claimCount()) - first
                    raise RuntimeError(f"only {mined} of {len(calls)} claims were mined")
                filer.call("evm_mine", [])
                first_mined = first_mined or time.perf_counter()
    finally:
        filer.call("evm_setAutomine", [True])
    return hashes, first_mined or time.perf_counter()


# --------------------------------------------------------------------------------------------- a run


def _run(ape: Any, plan: Plan, tmp: Path) -> dict[str, Any]:
    from lg_testkit import CHALLENGE_PERIOD

    from keeper.chain import ChainClient
    from keeper.cli_run import build_pipeline
    from keeper.settings import KeeperSettings
    from keeper.sim.server import SimLimits
    from keeper.store import ClaimState

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
    policy = scenarios.policy
    settings = KeeperSettings(
        _env_file=None,
        okx_base_url=sim.url,
        binance_base_url=sim.url,
        bybit_base_url=sim.url,
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
    pipeline = build_pipeline(settings, guard, validator, chain)
    bench_chain = _instrumented_chain(ChainClient)(guard, validator, chain)
    pipeline.chain = bench_chain
    steps: dict[str, float] = defaultdict(float)
    for step in ("_ingest", "_decide", "_post", "_pay"):
        pipeline.__dict__[step] = _timed(getattr(pipeline, step), steps, step.strip("_"))
    # Posts made inside "decide" while verification goes on.
    pipeline.__dict__["_post_group"] = _timed(pipeline._post_group, steps, "post_overlapped")
    # The time "decide" spends blocked on the exchanges (the pool works on while verdicts are posted).
    pipeline.verifier.__dict__["verify_stream"] = _timed_stream(
        pipeline.verifier.verify_stream, steps, "exchange_wait"
    )

    # ---- phase 1: a backlog of N claims, drained (the keeper starts on the whole backlog)
    filed_hashes, _ = file_backlog(filer, guard, calls[: plan.claims])
    baseline_rss = rss_bytes()
    passes = 0
    pass_reports: list[list[int]] = []
    with RssSampler() as sampler:
        t0 = time.perf_counter()
        while len(bench_chain.posted_at) < plan.claims:
            report = pipeline.run_once()
            passes += 1
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
            if time.perf_counter() - t0 > 3600:
                raise RuntimeError("the keeper does not drain the backlog within an hour")
        drained = time.perf_counter() - t0
    hits_phase1, statuses_phase1 = sim.counts()
    steps_phase1 = dict(steps)
    throughput = plan.claims / drained
    limit_ceiling = ceiling(hits_phase1, SimLimits(), plan.claims)

    # ---- phase 2: steady arrivals at half the measured throughput, keeper looping
    latencies: list[float] = []
    if plan.latency_claims:
        if plan.binance_share:
            # Steady arrivals, not the backlog's tail: the weight the backlog spent leaves Binance's minute
            # window first. (Without this wait the last arrivals met a minute the backlog had spent and
            # waited for the next one: up to 5.7 s, which is the backlog's latency, not the arrivals'.)
            time.sleep(BINANCE_WINDOW_SECONDS + 1)
        rate = throughput / 2
        filed_at: dict[int, float] = {}
        first_id = plan.claims + 1

        def arrive() -> None:
            due = time.perf_counter()
            for offset, (sender, data) in enumerate(calls[plan.claims :]):
                due += 1 / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                filed_hashes.append(filer.send(sender, guard.address, data))
                filed_at[first_id + offset] = time.perf_counter()

        arrivals = threading.Thread(target=arrive, daemon=True)
        arrivals.start()
        deadline = time.perf_counter() + plan.latency_claims / rate + 600
        while len(bench_chain.posted_at) < total and time.perf_counter() < deadline:
            report = pipeline.run_once()
            if not report.transactions:
                time.sleep(0.05)
            if pipeline.store.count_by_state().get(ClaimState.DEFERRED, 0):
                chain.mine()  # as above: the chain's clock follows the wall clock
        arrivals.join()
        latencies = [
            bench_chain.posted_at[cid] - filed_at[cid]
            for cid in sorted(filed_at)
            if cid in bench_chain.posted_at
        ]

    # ---- phase 3: payouts once the challenge window is over
    chain.mine(timestamp=int(chain.pending_timestamp) + CHALLENGE_PERIOD + 1)
    t0 = time.perf_counter()
    paid = 0
    for _ in range(5):
        report = pipeline.run_once()
        paid += len(report.paid)
        if not report.paid:
            break
    pay_seconds = time.perf_counter() - t0

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
        "step_seconds": steps_phase1,
        "statuses": {str(k): v for k, v in statuses_phase1.items()},
        "latency": {
            "claims": len(latencies),
            "of": plan.latency_claims,
            "arrival_rate": throughput / 2 if plan.latency_claims else None,
            "p50_seconds": _percentile(latencies, 50),
            "p95_seconds": _percentile(latencies, 95),
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


def _instrumented_chain(base: Any) -> Any:
    class BenchChain(base):  # type: ignore[misc, valid-type]
        """Times every verdict transaction (the client counts its own contract reads: ``reads``)."""

        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.posted_at: dict[int, float] = {}
            self.sent: list[dict[str, Any]] = []

        def settle(self, pending: Any) -> Any:
            # Every write is settled here (a verdict batch one batch later, a payout at once).
            sent = super().settle(pending)
            kind = "verify" if pending.method == "postVerifications" else "payout"
            if kind == "verify":
                now = time.perf_counter()
                for claim_id in sent.claim_ids:
                    self.posted_at.setdefault(claim_id, now)
            self.sent.append({"kind": kind, "gas": sent.gas_used or 0, "n": len(sent.claim_ids)})
            return sent

    return BenchChain


def _timed(step: Any, totals: dict[str, float], name: str) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return step(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - started

    return wrapper


def _timed_stream(stream: Any, totals: dict[str, float], name: str) -> Any:
    """Adds up the time the caller waits for each item of the generator, not the time it spends on them."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        iterator = stream(*args, **kwargs)
        while True:
            started = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                totals[name] += time.perf_counter() - started
            yield item

    return wrapper


def _percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# ----------------------------------------------------------------------------------------- reporting


def _mb(value: float) -> str:
    return f"{value / 2**20:,.0f}"


def _s(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def tables(results: list[dict[str, Any]]) -> str:
    out = [
        "## Keeper throughput against the rate-limit ceiling (one run, anvil + simulator, 50 ms latency)\n"
    ]
    rows = []
    for r in results:
        c = r["ceiling"]
        rows.append(
            [
                r["label"],
                r["claims"],
                f"{r['workers']} / {r['batch']}",
                f"{r['throughput_claims_per_second']:.2f}",
                f"{c['claims_per_second']:.2f}" if c["claims_per_second"] else "",
                _s(r["ceiling_ratio"]),
                c["binding_key"].split(" [")[0],
                _s(r["latency"]["p50_seconds"]),
                _s(r["latency"]["p95_seconds"]),
                _mb(r["rss"]["peak_phase1_bytes"]),
                r["transactions"]["verify"],
                r["transactions"]["payout"],
                f"{r['gas']['keeper_per_claim']:,.0f}",
                f"{r['gas']['end_to_end_per_claim']:,.0f}",
            ]
        )
    headers = [
        "run",
        "claims",
        "workers / batch",
        "claims/s",
        "ceiling claims/s",
        "ratio to ceiling",
        "binding limit",
        "latency p50 s",
        "latency p95 s",
        "peak RSS MiB",
        "verdict txs",
        "payout txs",
        "keeper gas / claim",
        "gas / claim incl. filing",
    ]
    out.append(markdown_table(headers, rows))
    by_label = {r["label"]: r for r in results}
    main, single = by_label.get("batched"), by_label.get("c1-b1")
    if main and single:
        speedup = main["throughput_claims_per_second"] / single["throughput_claims_per_second"]
        out.append(f"\nbatched / concurrency-1-batch-1 throughput: {speedup:.2f}x (same workload, same run)")
    out.append("\n## Where the requests and reads go (backlog phase)\n")
    rows = []
    for r in results:
        c = r["ceiling"]
        per_claim = ", ".join(f"{k.split(' ', 1)[1]} {v:.2f}" for k, v in c["requests_per_claim"].items())
        reads = r["rpc_reads"].get("eth_call", 0) / (r["claims"] + r["latency"]["of"])
        steps = r["step_seconds"]
        waited = steps.get("exchange_wait", 0)
        rows.append(
            [
                f"{r['label']} {r['claims']}",
                per_claim,
                f"{c['binance_weight_per_claim']:.1f}",
                r["statuses"].get("429", 0),
                f"{reads:.1f}",
                f"{waited:.1f}",
                f"{steps.get('decide', 0) - waited - steps.get('post_overlapped', 0):.1f}",
                f"{steps.get('post_overlapped', 0):.1f}",
                f"{steps.get('post', 0) + steps.get('pay', 0):.1f}",
            ]
        )
    headers = [
        "run",
        "exchange requests / claim",
        "Binance weight / claim",
        "429 replies",
        "contract reads / claim",
        "waiting on exchange s",
        "decide s, other",
        "posts overlapped s",
        "post + pay steps s",
    ]
    out.append(markdown_table(headers, rows))
    out.append("\n## Scale curve (batched keeper)\n")
    scale = sorted((r for r in results if r["label"].startswith("batched")), key=lambda r: r["claims"])
    rows = []
    base = scale[0] if scale else None
    for r in scale:
        assert base is not None
        time_ratio = (r["backlog_seconds"] / base["backlog_seconds"]) / (r["claims"] / base["claims"])
        growth = r["rss"]["peak_phase1_bytes"] - r["rss"]["baseline_bytes"]
        rows.append(
            [
                r["claims"],
                f"{r['backlog_seconds']:.1f}",
                f"{r['backlog_seconds'] / r['claims'] * 1000:.1f}",
                f"{time_ratio:.2f}",
                _mb(r["rss"]["peak_phase1_bytes"]),
                f"{growth / 2**20:,.1f}",
                f"{r['db_bytes_per_claim']:,.0f}",
                f"{r['audit_bytes_per_claim']:,.0f}",
                ", ".join(f"{k} {v:.1f}" for k, v in r["step_seconds"].items()),
            ]
        )
    headers = [
        "claims",
        "backlog s",
        "ms / claim",
        "time per claim vs smallest",
        "peak RSS MiB",
        "RSS growth in keeper MiB",
        "DB bytes / claim",
        "audit bytes / claim",
        "seconds per step (backlog)",
    ]
    out.append(markdown_table(headers, rows))
    return "\n".join(out)


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
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"\nwrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
