"""monitoring/grafana/keeper.json: a keeper fed real observations (two daemon passes, one failing, and an
exchange verification) is scraped on its live /metrics, and every metric a panel's query names must be
there."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from support.factories import BackingOffVerifier, claim_in_review
from support.promql import exposed_names, metric_names

from keeper.daemon import Daemon, DaemonConfig
from keeper.evidence import ReviewCause
from keeper.interface import Exchange
from keeper.metrics import HealthLimits, HealthState, KeeperMetrics, MetricsServer
from keeper.pipeline import RunReport
from keeper.store import ClaimRecord, ClaimState
from keeper.verification import OutcomeStatus, VerificationOutcome, VerificationRequest

DASHBOARD = Path(__file__).resolve().parents[2] / "monitoring" / "grafana" / "keeper.json"
DAY_MS = 86_400_000
REQUIRED_PANELS = {
    "Throughput",
    "Decisions by outcome",
    "Pass duration",
    "Backlog",
    "Verifications per exchange",
    "Rate limits: 429s and back-offs",
    "Chain head vs cursor",
    "Pool balance",
    "Payouts",
}


class Chain:
    def head(self) -> int:
        return 1_000

    def pool_balances(self) -> tuple[int, int]:
        return 50_000_000_000, 2_000_000_000

    def now(self) -> int:
        return int(time.time())


class Store:
    def cursor(self) -> int | None:
        return 990

    def count_by_state(self) -> dict[ClaimState, int]:
        return {state: 1 for state in ClaimState}

    def in_review(self) -> list[ClaimRecord]:
        entered = int(time.time()) - 3_600
        return [
            claim_in_review(
                9,
                Exchange.OKX,
                ReviewCause.UNKNOWN_ACCOUNT,
                entered,
                instrument="BTC-USDT-SWAP",
                earliest_ms=int(time.time() * 1000) - 80 * DAY_MS,  # OKX keeps 89 days: 9 left
            )
        ]


class Pipeline:
    """A pass that fails (the RPC node), then one that did a bit of everything."""

    def __init__(self) -> None:
        self.chain = Chain()
        self.store = Store()
        self.verifier = BackingOffVerifier("HTTP 429")
        self.failed = False

    def run_once(self, should_stop: Any = None) -> RunReport:
        if not self.failed:
            self.failed = True
            raise ConnectionError("RPC node refused the connection")
        return RunReport(
            recorded=[1, 2, 3],
            decided=[1, 2],
            verdict_reasons=[0, 3],
            deferred=[3],
            reviewed=[(9, "unknown_account")],
            posted=[1, 2],
            paid=[1],
            payout_failed=[4],
            transaction_outcomes=[("verify", "confirmed", 90_000), ("payout", "reverted", 60_000)],
            reverted_dry_runs=["verify"],
        )


def observed_keeper() -> KeeperMetrics:
    metrics = KeeperMetrics()
    health = HealthState(HealthLimits(head_stall_seconds=60, max_pass_seconds=60))
    config = DaemonConfig(poll_interval_seconds=1, watchdog_seconds=60, max_pass_seconds=60)
    pipeline: Any = Pipeline()
    daemon = Daemon(pipeline, metrics, health, config, threading.Event())
    assert daemon.run_pass() is None
    assert daemon.run_pass() is not None
    request = VerificationRequest(
        exchange=Exchange.BINANCE, account_ref="0x" + "cd" * 32, order_id="7", instrument="BTCUSDT"
    )
    metrics.observe_outcome(VerificationOutcome(request=request, status=OutcomeStatus.VERIFIED), 0.2)
    rate_limited = VerificationOutcome(request=request, status=OutcomeStatus.DEFERRED, error="rate_limited")
    metrics.observe_outcome(rate_limited, 1.5)
    return metrics


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, those inside a collapsed row too."""
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def panel_queries(dashboard: dict[str, Any]) -> dict[str, list[str]]:
    return {
        panel["title"]: [target["expr"] for target in panel.get("targets", [])]
        for panel in panels(dashboard)
        if panel["type"] != "row"
    }


def test_dashboard__every_panel_metric__exported_on_the_live_metrics_endpoint() -> None:
    metrics = observed_keeper()
    health = HealthState(HealthLimits(head_stall_seconds=60, max_pass_seconds=60))
    server = MetricsServer("127.0.0.1", 0, metrics, health).start()
    try:
        _, port = server.address
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            exported = exposed_names(response.read().decode())
    finally:
        server.stop()
    queries = panel_queries(json.loads(DASHBOARD.read_text()))

    used = {title: set().union(*(metric_names(expr) for expr in exprs)) for title, exprs in queries.items()}
    assert {title: sorted(names - exported) for title, names in used.items() if names - exported} == {}
    assert all(used.values())  # each panel queries something: the name extraction did not silently fail


def test_dashboard__shape__prometheus_datasource_variable_and_the_operators_panels() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    every = panels(dashboard)

    assert dashboard["schemaVersion"] == 39
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == ("datasource", "prometheus")
    assert REQUIRED_PANELS - set(panel_queries(dashboard)) == set()
    assert len({panel["id"] for panel in every}) == len(every)
    for panel in every:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["targets"], panel["title"]


def sample(metrics: KeeperMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels or None)


def test_daemon_feed__new_series__pass_duration_purge_auth_and_transaction_kinds() -> None:
    """What the alerts read that the keeper did not export before, fed by the daemon's passes."""
    before = time.time()
    metrics = observed_keeper()
    purge_in = sample(metrics, "keeper_review_purge_in_seconds", exchange="okx") or 0.0

    assert sample(metrics, "keeper_pass_duration_seconds_count") == 2
    assert 9 * 86_400 - (time.time() - before) - 1 <= purge_in <= 9 * 86_400
    assert sample(metrics, "keeper_exchange_errors_total", exchange="bybit", code="authentication") == 0
    assert sample(metrics, "keeper_tx_failed_total", kind="verify") == 1
    assert sample(metrics, "keeper_tx_failed_total", kind="payout") == 1


def test_observe_purge_deadlines__past_deadlines_left_out_and_cleared() -> None:
    metrics = KeeperMetrics()

    metrics.observe_purge_deadlines({Exchange.OKX: [900, 1_500, 1_200], Exchange.BINANCE: [999]}, now=1_000)
    assert sample(metrics, "keeper_review_purge_in_seconds", exchange="okx") == 200
    assert sample(metrics, "keeper_review_purge_in_seconds", exchange="binance") is None

    metrics.observe_purge_deadlines({}, now=1_000)
    assert sample(metrics, "keeper_review_purge_in_seconds", exchange="okx") is None


def test_daemon_run__stopped_at_once__last_pass_counts_from_the_start() -> None:
    """Before: 0 until the first pass, so a long first pass read as a keeper silent since 1970."""
    metrics = KeeperMetrics()
    health = HealthState(HealthLimits(head_stall_seconds=60, max_pass_seconds=60))
    config = DaemonConfig(poll_interval_seconds=1, watchdog_seconds=60, max_pass_seconds=60)
    stop = threading.Event()
    stop.set()
    pipeline: Any = Pipeline()
    before = time.time()

    Daemon(pipeline, metrics, health, config, stop).run()

    assert before <= (sample(metrics, "keeper_last_pass_timestamp_seconds") or 0) <= time.time()
    assert pipeline.failed is False  # no pass ran
