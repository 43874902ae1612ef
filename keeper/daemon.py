"""The long-running keeper: a pass of the pipeline every poll interval, until told to stop.

- SIGTERM / SIGINT set a stop flag: the current step finishes, the loop returns ``EXIT_OK``.
- A pass that raises (RPC down, database busy, ...) is logged and counted; the next poll tries again.
- Watchdogs make a supervisor restart us instead of hanging: the loop exits ``EXIT_HEAD_STALLED`` when
  the chain head has not moved for ``watchdog_seconds``, and a thread ends the process with
  ``EXIT_PASS_STUCK`` when one pass runs longer than ``max_pass_seconds`` (a call that never returns).
- ``InstanceLock`` keeps a second keeper off the same database (flock: released by the kernel on any exit,
  SIGKILL included, so a crash never leaves a stale lock behind).
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from keeper.exchanges.registry import purge_deadline
from keeper.interface import Exchange
from keeper.metrics import HealthState, KeeperMetrics
from keeper.pipeline import Pipeline, RunReport
from keeper.store import ClaimRecord

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PASS_STUCK = 70
EXIT_LOCKED = 73
EXIT_HEAD_STALLED = 75
EXIT_CONFIG = 78


class AlreadyRunningError(RuntimeError):
    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"another keeper (pid {holder or 'unknown'}) holds {path}")
        self.path = path
        self.holder = holder


class InstanceLock:
    """An exclusive, non-blocking flock on ``path``; the file records the holder's pid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> InstanceLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise AlreadyRunningError(self.path, holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT ask for a clean stop; the loop notices between steps."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if not stop.is_set():
            log.info("received %s: finishing the current step, then exiting", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


@dataclass(frozen=True)
class DaemonConfig:
    poll_interval_seconds: float
    watchdog_seconds: float
    max_pass_seconds: float


class Daemon:
    def __init__(
        self,
        pipeline: Pipeline,
        metrics: KeeperMetrics,
        health: HealthState,
        config: DaemonConfig,
        stop: threading.Event,
    ) -> None:
        self.pipeline = pipeline
        self.metrics = metrics
        self.health = health
        self.config = config
        self.stop = stop

    def run(self) -> int:
        """Loops until stopped (``EXIT_OK``) or the chain head stalls (``EXIT_HEAD_STALLED``)."""
        watchdog = threading.Thread(target=self._watch_pass_duration, name="pass-watchdog", daemon=True)
        watchdog.start()
        # A first pass (a long catch-up) is not late since the epoch: KeeperNoPassFinished counts from here.
        self.metrics.last_pass.set(time.time())
        log.info("keeper loop started (poll every %.1fs)", self.config.poll_interval_seconds)
        try:
            while not self.stop.is_set():
                self.run_pass()
                stalled = self.health.head_stalled_for()
                if stalled > self.config.watchdog_seconds:
                    log.critical(
                        "chain head has not moved for %.0fs (limit %.0fs): exiting for a restart",
                        stalled,
                        self.config.watchdog_seconds,
                    )
                    return EXIT_HEAD_STALLED
                self.stop.wait(self.config.poll_interval_seconds)
        finally:
            self.stop.set()  # also ends the watchdog thread
        log.info("keeper stopped cleanly")
        return EXIT_OK

    def run_pass(self) -> RunReport | None:
        """One pass; None when it failed (logged and counted, retried at the next poll)."""
        self.health.pass_started()
        started = time.monotonic()
        report: RunReport | None = None
        try:
            chain = self.pipeline.chain
            self.health.saw_head(chain.head())
            report = self.pipeline.run_once(should_stop=self.stop.is_set)
            self.metrics.observe_pass(report)
            free, reserved = chain.pool_balances()
            head = chain.head()
            self.health.saw_head(head)
            store = self.pipeline.store
            self.metrics.observe_chain(head, store.cursor(), free - reserved, reserved)
            self.metrics.observe_states({state.value: n for state, n in store.count_by_state().items()})
            in_review = store.in_review()
            self.metrics.observe_reviews(in_review, chain.now())
            # The exchange purges on its own clock, not the chain's: wall time.
            self.metrics.observe_purge_deadlines(purge_deadlines(in_review), time.time())
            self.metrics.observe_exchanges(self.pipeline.verifier.exchange_transports())
            if (
                report.recorded
                or report.decided
                or report.transactions
                or report.deferred
                or report.held
                or report.reviewed
            ):
                log.info("pass done", extra={"pass": summary(report)})
        except Exception as exc:  # the loop must outlive a flaky RPC node; the health endpoint shows it
            self.metrics.pass_errors.labels(type(exc).__name__).inc()
            log.error(
                "pass failed: %s: %s", type(exc).__name__, exc, exc_info=log.isEnabledFor(logging.DEBUG)
            )
        finally:
            self.health.pass_finished(ok=report is not None)
            self.metrics.pass_duration.observe(time.monotonic() - started)
        return report

    def _watch_pass_duration(self) -> None:
        period = min(5.0, self.config.max_pass_seconds / 10)
        while not self.stop.wait(period):
            running = self.health.pass_running_for()
            if running > self.config.max_pass_seconds:
                log.critical("a pass has been running for %.0fs: exiting for a restart", running)
                for handler in logging.getLogger().handlers:
                    handler.flush()
                # A thread cannot interrupt a blocked call in the main thread; leave and let the supervisor
                # restart us. The store and audit log are crash-safe by design (see pipeline.py).
                os._exit(EXIT_PASS_STUCK)


def purge_deadlines(in_review: list[ClaimRecord]) -> dict[Exchange, list[int]]:
    """When each exchange purges the orders of the claims in review, as ``keeper review list`` shows them
    (claims whose earliest liquidation time is not known are left out)."""
    deadlines: dict[Exchange, list[int]] = {}
    for claim in in_review:
        exchange = Exchange(claim.exchange)
        earliest = claim.review_earliest_ms
        deadline = None if earliest is None else purge_deadline(exchange, earliest)
        if deadline is not None:
            deadlines.setdefault(exchange, []).append(deadline)
    return deadlines


def summary(report: RunReport) -> dict[str, object]:
    return {
        "scanned_to": report.scanned_to,
        "recorded": len(report.recorded),
        "decided": len(report.decided),
        "deferred": len(report.deferred),
        "reviewed": len(report.reviewed),
        "held": len(report.held),
        "posted": len(report.posted),
        "paid": len(report.paid),
        "transactions": len(report.transactions),
    }
