"""Prometheus metrics and the health state, served on one small HTTP server (``/metrics``, ``/healthz``).

Each keeper gets its own ``CollectorRegistry`` so two keepers in one process (tests) do not share counters.
The server binds 127.0.0.1 by default: metrics name claims and amounts, which are not for the internet.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import MetricsHandler
from typing_extensions import override

from keeper.exchanges.errors import AuthenticationError
from keeper.interface import Exchange

if TYPE_CHECKING:
    from keeper.exchanges.transport import HttpTransport
    from keeper.pipeline import RunReport
    from keeper.store import ClaimRecord
    from keeper.verification import VerificationOutcome

DISPOSITIONS = ("approved", "rejected", "manual_review", "deferred")
TX_KINDS = ("verify", "payout")
"""keeper.store.TxKind's values; the store is not imported here: it would load the exchange transport."""
PASS_SECONDS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
"""Up to LG_MAX_PASS_SECONDS' default: a pass that long is killed by the watchdog."""

Clock = Callable[[], float]
log = logging.getLogger(__name__)


class KeeperMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.claims_seen = Counter("keeper_claims_seen", "LiquidationClaimed events recorded.", registry=r)
        self.claims_decided = Counter(
            "keeper_claims_decided", "Verdicts decided, by outcome.", ["outcome"], registry=r
        )
        for outcome in ("approved", "rejected"):  # exported at 0 from the start, so rates work at once
            self.claims_decided.labels(outcome)
        self.claims_rejected = Counter(
            "keeper_claims_rejected_by_reason", "Rejections by reason code.", ["reason"], registry=r
        )
        self.claims_deferred = Counter("keeper_claims_deferred", "Claims deferred for a retry.", registry=r)
        self.claims_paid = Counter("keeper_claims_paid", "Claims the keeper saw paid on chain.", registry=r)
        self.payout_failures = Counter(
            "keeper_payout_failures",
            "Payouts the token refused (PayoutFailed): each is an alert, the claim is backed off.",
            registry=r,
        )
        self.exchange_latency = Histogram(
            "keeper_exchange_request_seconds",
            "Time to verify one claim's order on its exchange.",
            ["exchange"],
            registry=r,
        )
        self.exchange_errors = Counter(
            "keeper_exchange_errors",
            "Exchange verification errors by code.",
            ["exchange", "code"],
            registry=r,
        )
        # At 0 from the start: increase() cannot see a series' first sample, so the first refusal of an
        # exchange's credentials (KeeperExchangeAuthRefused) would otherwise go unnoticed.
        for exchange in Exchange:
            self.exchange_errors.labels(exchange.slug, AuthenticationError.error_name)
        self.tx_sent = Counter("keeper_tx_sent", "Transactions sent, by kind.", ["kind"], registry=r)
        self.tx_failed = Counter(
            "keeper_tx_failed",
            "Transactions or dry-runs that reverted or failed, by kind.",
            ["kind"],
            registry=r,
        )
        for kind in TX_KINDS:  # at 0 from the start, as above (KeeperVerdictTransactionsFailing)
            self.tx_sent.labels(kind)
            self.tx_failed.labels(kind)
        self.gas_used = Counter(
            "keeper_gas_used", "Gas used by the keeper's transactions.", ["kind"], registry=r
        )
        self.pass_errors = Counter(
            "keeper_pass_errors",
            "Passes that raised (RPC down, ...), by exception type.",
            ["error"],
            registry=r,
        )
        self.passes = Counter("keeper_passes", "Completed pipeline passes.", registry=r)
        self.cursor_lag = Gauge(
            "keeper_cursor_lag_blocks", "Chain head minus the scanned cursor.", registry=r
        )
        self.head_block = Gauge("keeper_head_block", "Latest block number seen.", registry=r)
        self.pool_free = Gauge(
            "keeper_pool_free_balance", "Pool balance not reserved (token units).", registry=r
        )
        self.pool_reserved = Gauge("keeper_pool_reserved", "Pool balance reserved for approvals.", registry=r)
        self.claims_by_state = Gauge(
            "keeper_claims_in_state",
            "Claims in the store by state (deferred ones wait for a retry).",
            ["state"],
            registry=r,
        )
        self.verdicts = Counter(
            "keeper_verdicts_by_disposition",
            "Claims concluded in a pass, by disposition (approved, rejected, manual_review, deferred).",
            ["disposition"],
            registry=r,
        )
        for disposition in DISPOSITIONS:
            self.verdicts.labels(disposition)
        self.in_review = Gauge(
            "keeper_claims_in_review",
            "Claims waiting for a person (keeper review), by exchange and cause.",
            ["exchange", "cause"],
            registry=r,
        )
        self.oldest_review_age = Gauge(
            "keeper_oldest_review_age_seconds",
            "How long the claim waiting longest for a person has waited (0: none waits).",
            registry=r,
        )
        self.last_pass = Gauge(
            "keeper_last_pass_timestamp_seconds",
            "Unix time of the last completed pass; before the first, of the loop's start.",
            registry=r,
        )
        self.pass_duration = Histogram(
            "keeper_pass_duration_seconds",
            "Wall time of each pass, failed ones included.",
            buckets=PASS_SECONDS_BUCKETS,
            registry=r,
        )
        self.review_purge_in = Gauge(
            "keeper_review_purge_in_seconds",
            "Per exchange, the least time left before the exchange purges the order of a claim in review "
            "(among those not purged yet; none: no series).",
            ["exchange"],
            registry=r,
        )
        self.clock_offset = Gauge(
            "keeper_exchange_clock_offset_ms",
            "The exchange's clock minus ours, as last measured from its server-time endpoint.",
            ["exchange"],
            registry=r,
        )
        self.clock_skew_errors = Gauge(
            "keeper_exchange_clock_skew_errors",
            "Timestamps the exchange refused since start (OKX 50102, Binance -1021).",
            ["exchange"],
            registry=r,
        )
        self.clock_alerts = Gauge(
            "keeper_exchange_clock_alerts",
            "Times the exchange refused LG_CLOCK_SKEW_ALERT_AFTER timestamps in a row since start.",
            ["exchange"],
            registry=r,
        )
        self.backoff_remaining = Gauge(
            "keeper_exchange_backoff_remaining_seconds",
            "Seconds before the exchange may be asked again (a Binance 429/418 back-off; 0: open).",
            ["exchange"],
            registry=r,
        )
        self.backoffs_imposed = Gauge(
            "keeper_exchange_backoffs_imposed",
            "429 / 418 answers that closed or extended the exchange's back-off since start.",
            ["exchange"],
            registry=r,
        )

    def observe_outcome(self, outcome: VerificationOutcome, seconds: float) -> None:
        exchange = outcome.request.exchange.slug
        self.exchange_latency.labels(exchange).observe(seconds)
        if outcome.error is not None:
            self.exchange_errors.labels(exchange, outcome.error).inc()

    def observe_pass(self, report: RunReport) -> None:
        self.passes.inc()
        self.last_pass.set(time.time())
        self.claims_seen.inc(len(report.recorded))
        self.claims_deferred.inc(len(report.deferred))
        self.claims_paid.inc(len(report.paid))
        self.payout_failures.inc(len(report.payout_failed))
        for reason in report.verdict_reasons:
            self.claims_decided.labels("approved" if reason == 0 else "rejected").inc()
            self.verdicts.labels("approved" if reason == 0 else "rejected").inc()
            if reason != 0:
                self.claims_rejected.labels(str(reason)).inc()
        self.verdicts.labels("manual_review").inc(len(report.reviewed))
        self.verdicts.labels("deferred").inc(len(report.deferred))
        for kind, status, gas in report.transaction_outcomes:
            self.tx_sent.labels(kind).inc()
            if status != "confirmed":
                self.tx_failed.labels(kind).inc()
            if gas is not None:
                self.gas_used.labels(kind).inc(gas)
        for kind in report.reverted_dry_runs:
            self.tx_failed.labels(kind).inc()

    def observe_states(self, counts: dict[str, int]) -> None:
        for state, count in counts.items():
            self.claims_by_state.labels(state).set(count)

    def observe_reviews(self, in_review: list[ClaimRecord], now: int) -> None:
        """The review desk's queue: counts by (exchange, cause) and the oldest wait, in chain seconds."""
        counts: dict[tuple[str, str], int] = {}
        for claim in in_review:
            key = (Exchange(claim.exchange).slug, str(claim.review_cause))
            counts[key] = counts.get(key, 0) + 1
        self.in_review.clear()  # a cause no claim has any more must read 0, not its last count
        for (exchange, cause), count in counts.items():
            self.in_review.labels(exchange, cause).set(count)
        entered = [c.review_entered_at for c in in_review if c.review_entered_at is not None]
        self.oldest_review_age.set(max(0, now - min(entered)) if entered else 0)

    def observe_purge_deadlines(self, deadlines: Mapping[Exchange, list[int]], now: float) -> None:
        """``deadlines``: unix seconds at which each exchange purges its claims in review (``now`` on the
        same wall clock). One already past is left out: that data is gone, a reminder cannot save it."""
        self.review_purge_in.clear()  # an exchange with no claim left to save reads as gone, as above
        for exchange, times in deadlines.items():
            ahead = [deadline - now for deadline in times if deadline > now]
            if ahead:
                self.review_purge_in.labels(exchange.slug).set(min(ahead))

    def observe_exchanges(self, transports: Mapping[Exchange, HttpTransport]) -> None:
        """Each exchange's clock offset, refused timestamps and back-off, from its shared transport."""
        for exchange, transport in transports.items():
            slug, clock, backoff = exchange.slug, transport.clock, transport.backoff
            self.clock_offset.labels(slug).set(clock.offset_ms)
            self.clock_skew_errors.labels(slug).set(clock.skew_errors)
            self.clock_alerts.labels(slug).set(clock.alerts)
            now = clock.seconds()
            state = backoff.active(now)
            self.backoff_remaining.labels(slug).set(0 if state is None else state.until - now)
            self.backoffs_imposed.labels(slug).set(backoff.imposed)

    def observe_chain(self, head: int, cursor: int | None, free: int, reserved: int) -> None:
        self.head_block.set(head)
        self.cursor_lag.set(head - cursor if cursor is not None else head)
        self.pool_free.set(free)
        self.pool_reserved.set(reserved)


@dataclass(frozen=True)
class HealthLimits:
    head_stall_seconds: float
    """Unhealthy when the chain head has not moved for this long."""
    max_pass_seconds: float
    """Unhealthy when a pass has been running this long, or none has completed for this long."""


class HealthState:
    """What /healthz reports; the daemon feeds it, the HTTP thread reads it."""

    def __init__(self, limits: HealthLimits, clock: Clock = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        started = clock()
        self._head: int | None = None
        self._head_changed_at = started
        self._pass_started_at: float | None = None
        self._last_pass_at = started

    def saw_head(self, head: int) -> None:
        with self._lock:
            if head != self._head:
                self._head = head
                self._head_changed_at = self._clock()

    def pass_started(self) -> None:
        with self._lock:
            self._pass_started_at = self._clock()

    def pass_finished(self, ok: bool) -> None:
        with self._lock:
            self._pass_started_at = None
            if ok:
                self._last_pass_at = self._clock()

    def head_stalled_for(self) -> float:
        with self._lock:
            return self._clock() - self._head_changed_at

    def pass_running_for(self) -> float:
        with self._lock:
            return 0.0 if self._pass_started_at is None else self._clock() - self._pass_started_at

    def problems(self) -> list[str]:
        """Empty when healthy; otherwise one sentence per problem."""
        now = self._clock()
        with self._lock:
            found = []
            if now - self._head_changed_at > self._limits.head_stall_seconds:
                found.append(f"chain head {self._head} has not moved for {now - self._head_changed_at:.0f}s")
            if (
                self._pass_started_at is not None
                and now - self._pass_started_at > self._limits.max_pass_seconds
            ):
                found.append(f"current pass has been running for {now - self._pass_started_at:.0f}s")
            if now - self._last_pass_at > self._limits.max_pass_seconds:
                found.append(f"no pass has completed for {now - self._last_pass_at:.0f}s")
            return found

    def snapshot(self) -> dict[str, object]:
        problems = self.problems()
        return {"ok": not problems, "problems": problems, "head": self._head}


class MetricsServer:
    """``/metrics`` (Prometheus text format) and ``/healthz`` (200 or 503 with a JSON body)."""

    def __init__(self, host: str, port: int, metrics: KeeperMetrics, health: HealthState) -> None:
        handler = _handler_for(metrics, health)
        self._server = _QuietServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A scraper that hangs up early is not the keeper's problem; the default prints a traceback.
        log.debug("metrics request from %s failed", client_address, exc_info=True)


def _handler_for(metrics: KeeperMetrics, health: HealthState) -> type[BaseHTTPRequestHandler]:
    class Handler(MetricsHandler):
        # The library's handler serves /metrics: the text format or OpenMetrics as the scraper asks (Accept),
        # gzip when accepted, name[] filters. It also logs no request (a scrape every few seconds would
        # drown the keeper's own log).
        registry = metrics.registry

        @override
        def do_GET(self) -> None:
            path = urlparse(self.path).path
            if path == "/metrics":
                super().do_GET()
            elif path == "/healthz":
                snapshot = health.snapshot()
                body = json.dumps(snapshot).encode()
                self._reply(200 if snapshot["ok"] else 503, "application/json", body)
            else:
                self._reply(404, "text/plain", b"not found\n")

        def _reply(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
