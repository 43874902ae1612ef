"""The daemon's parts without a chain: the loop around a scripted pipeline, the instance lock, the health
state, the metrics endpoint, JSON logs and the daemon settings."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from support.factories import BackingOffVerifier, claim_in_review

from keeper.daemon import (
    EXIT_HEAD_STALLED,
    EXIT_OK,
    EXIT_PASS_STUCK,
    AlreadyRunningError,
    Daemon,
    DaemonConfig,
    InstanceLock,
)
from keeper.evidence import ReviewCause
from keeper.logs import JsonFormatter, configure_logging
from keeper.metrics import HealthLimits, HealthState, KeeperMetrics, MetricsServer
from keeper.pipeline import RunReport
from keeper.settings import DeploymentFileError, KeeperSettings
from keeper.store import ClaimRecord, ClaimState


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class ScriptedChain:
    """Heads to report, one per call; the last one repeats."""

    def __init__(self, heads: list[int]) -> None:
        self.heads = heads
        self.calls = 0

    def head(self) -> int:
        head = self.heads[min(self.calls, len(self.heads) - 1)]
        self.calls += 1
        return head

    def pool_balances(self) -> tuple[int, int]:
        return 1_000, 300

    def now(self) -> int:
        return 10_000


REVIEWS = (
    claim_in_review(1, 1, ReviewCause.UNKNOWN_ACCOUNT, entered_at=4_000),
    claim_in_review(2, 1, ReviewCause.UNKNOWN_ACCOUNT, entered_at=9_000),
    claim_in_review(3, 2, ReviewCause.AGED_OUT, entered_at=9_500),
)


class ScriptedStore:
    def cursor(self) -> int | None:
        return 7

    def in_review(self) -> list[ClaimRecord]:
        return list(REVIEWS)

    def count_by_state(self) -> dict[ClaimState, int]:
        return {state: 2 if state is ClaimState.DEFERRED else 0 for state in ClaimState}


class ScriptedPipeline:
    """run_once raises the scripted exceptions in turn, then returns reports; stops the loop at `passes`."""

    def __init__(
        self, chain: ScriptedChain, failures: list[Exception], passes: int, stop: threading.Event
    ) -> None:
        self.chain = chain
        self.store = ScriptedStore()
        self.verifier = BackingOffVerifier("HTTP 418")
        self.failures = failures
        self.passes = passes
        self.stop = stop
        self.calls = 0

    def run_once(self, should_stop: Any = None) -> RunReport:
        self.calls += 1
        if self.calls >= self.passes:
            self.stop.set()
        if self.failures:
            raise self.failures.pop(0)
        return RunReport(
            recorded=[1, 2], decided=[1], verdict_reasons=[0], posted=[1], reviewed=[(2, "aged_out")]
        )


def make_daemon(pipeline: Any, stop: threading.Event, watchdog: float = 60.0) -> tuple[Daemon, KeeperMetrics]:
    metrics = KeeperMetrics()
    health = HealthState(HealthLimits(head_stall_seconds=watchdog, max_pass_seconds=60))
    config = DaemonConfig(poll_interval_seconds=0.01, watchdog_seconds=watchdog, max_pass_seconds=60)
    return Daemon(pipeline, metrics, health, config, stop), metrics


def sample(metrics: KeeperMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels or None)


# ================================================================== loop


def test_daemon__rpc_errors__counted_and_loop_goes_on_until_stopped() -> None:
    stop = threading.Event()
    pipeline = ScriptedPipeline(
        ScriptedChain(list(range(100, 200))),
        [ConnectionError("refused"), ConnectionError("refused")],
        4,
        stop,
    )
    daemon, metrics = make_daemon(pipeline, stop)

    assert daemon.run() == EXIT_OK

    assert pipeline.calls == 4
    assert sample(metrics, "keeper_pass_errors_total", error="ConnectionError") == 2
    assert sample(metrics, "keeper_passes_total") == 2
    assert sample(metrics, "keeper_claims_decided_total", outcome="approved") == 2
    assert sample(metrics, "keeper_pool_free_balance") == 700
    assert sample(metrics, "keeper_pool_reserved") == 300
    assert sample(metrics, "keeper_claims_in_state", state="deferred") == 2
    assert sample(metrics, "keeper_claims_in_state", state="posted") == 0
    assert sample(metrics, "keeper_cursor_lag_blocks") == sample(metrics, "keeper_head_block") - 7 > 0


def test_daemon__claims_in_review__counted_by_exchange_and_cause_with_the_oldest_age() -> None:
    """Before: nothing waited for a person, so nothing measured the review desk's queue."""
    stop = threading.Event()
    pipeline = ScriptedPipeline(ScriptedChain(list(range(100, 200))), [], 2, stop)
    daemon, metrics = make_daemon(pipeline, stop)

    assert daemon.run() == EXIT_OK

    assert sample(metrics, "keeper_claims_in_review", exchange="okx", cause="unknown_account") == 2
    assert sample(metrics, "keeper_claims_in_review", exchange="binance", cause="aged_out") == 1
    assert sample(metrics, "keeper_oldest_review_age_seconds") == 10_000 - 4_000
    assert sample(metrics, "keeper_verdicts_by_disposition_total", disposition="approved") == 2
    assert sample(metrics, "keeper_verdicts_by_disposition_total", disposition="manual_review") == 2
    assert sample(metrics, "keeper_verdicts_by_disposition_total", disposition="rejected") == 0

    # A cause no claim has any more reads as gone, not as its last count.
    metrics.observe_reviews(list(REVIEWS[2:]), now=9_600)
    assert sample(metrics, "keeper_claims_in_review", exchange="okx", cause="unknown_account") is None
    assert sample(metrics, "keeper_oldest_review_age_seconds") == 100
    metrics.observe_reviews([], now=9_600)
    assert sample(metrics, "keeper_oldest_review_age_seconds") == 0


def test_daemon__exchange_backing_off__clock_and_back_off_in_metrics() -> None:
    """Before: a ban or a drifting clock showed nowhere an operator looks."""
    stop = threading.Event()
    pipeline = ScriptedPipeline(ScriptedChain(list(range(100, 200))), [], 1, stop)
    daemon, metrics = make_daemon(pipeline, stop)
    pipeline.verifier.binance.clock.record_skew_error()

    assert daemon.run() == EXIT_OK

    assert sample(metrics, "keeper_exchange_backoffs_imposed", exchange="binance") == 1
    assert (
        110 < (sample(metrics, "keeper_exchange_backoff_remaining_seconds", exchange="binance") or 0) <= 120
    )
    assert sample(metrics, "keeper_exchange_clock_skew_errors", exchange="binance") == 1
    assert sample(metrics, "keeper_exchange_clock_alerts", exchange="binance") == 0
    assert sample(metrics, "keeper_exchange_clock_offset_ms", exchange="binance") == 0


def test_daemon__head_never_moves__exits_head_stalled() -> None:
    stop = threading.Event()
    pipeline = ScriptedPipeline(ScriptedChain([42]), [], 10_000, stop)
    daemon, _ = make_daemon(pipeline, stop, watchdog=0.05)

    assert daemon.run() == EXIT_HEAD_STALLED
    assert pipeline.calls >= 2


def test_daemon__stop_set_before_start__no_pass_exit_ok() -> None:
    stop = threading.Event()
    stop.set()
    pipeline = ScriptedPipeline(ScriptedChain([1]), [], 1, stop)
    daemon, _ = make_daemon(pipeline, stop)

    assert daemon.run() == EXIT_OK
    assert pipeline.calls == 0


HANG_IN_A_PASS = """
import threading, time
from keeper.daemon import Daemon, DaemonConfig
from keeper.metrics import HealthLimits, HealthState, KeeperMetrics

class Chain:
    def head(self): return 1

class Hanging:
    chain = Chain()
    def run_once(self, should_stop=None):
        time.sleep(60)  # an RPC or exchange call that never returns

config = DaemonConfig(poll_interval_seconds=0.1, watchdog_seconds=60, max_pass_seconds=0.5)
health = HealthState(HealthLimits(head_stall_seconds=60, max_pass_seconds=0.5))
Daemon(Hanging(), KeeperMetrics(), health, config, threading.Event()).run()
"""


def test_daemon__pass_hangs__process_exits_pass_stuck() -> None:
    hung = subprocess.run([sys.executable, "-c", HANG_IN_A_PASS], capture_output=True, timeout=30)
    assert hung.returncode == EXIT_PASS_STUCK
    assert b"a pass has been running for" in hung.stderr


# ================================================================== lock


def test_instance_lock__second_holder__refused_with_pid(tmp_path: Path) -> None:
    path = tmp_path / "keeper.sqlite3.lock"
    with InstanceLock(path), pytest.raises(AlreadyRunningError) as refused:
        InstanceLock(path).acquire()
    assert refused.value.path == path
    assert refused.value.holder == str(__import__("os").getpid())
    InstanceLock(path).acquire().release()  # free again once released


HOLD_LOCK = """
import sys, time
from pathlib import Path
from keeper.daemon import InstanceLock
lock = InstanceLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_instance_lock__holder_killed__lock_free_at_once(tmp_path: Path) -> None:
    path = tmp_path / "keeper.sqlite3.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)], stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    with pytest.raises(AlreadyRunningError):
        InstanceLock(path).acquire()
    holder.kill()
    holder.wait()
    InstanceLock(path).acquire().release()


# ================================================================== health + metrics endpoint


def test_health__head_stalls_or_pass_hangs__problems_named() -> None:
    clock = FakeClock()
    health = HealthState(HealthLimits(head_stall_seconds=30, max_pass_seconds=100), clock=clock)
    health.saw_head(5)
    assert health.problems() == []

    clock.now += 31
    assert health.problems() == ["chain head 5 has not moved for 31s"]
    health.saw_head(6)
    assert health.problems() == []

    health.pass_started()
    clock.now += 101
    health.saw_head(7)
    assert health.problems() == ["current pass has been running for 101s", "no pass has completed for 132s"]
    health.pass_finished(ok=True)
    assert health.problems() == []


def test_metrics_server__metrics_and_healthz_on_localhost() -> None:
    clock = FakeClock()
    health = HealthState(HealthLimits(head_stall_seconds=30, max_pass_seconds=100), clock=clock)
    metrics = KeeperMetrics()
    metrics.observe_pass(
        RunReport(
            recorded=[1, 2], verdict_reasons=[0, 3], transaction_outcomes=[("verify", "confirmed", 90_000)]
        )
    )
    server = MetricsServer("127.0.0.1", 0, metrics, health).start()
    host, port = server.address
    try:
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as response:
            text = response.read().decode()
        assert "keeper_claims_seen_total 2.0" in text
        assert 'keeper_claims_rejected_by_reason_total{reason="3"} 1.0' in text
        assert 'keeper_gas_used_total{kind="verify"} 90000.0' in text
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as response:
            assert (response.status, json.loads(response.read())["ok"]) == (200, True)

        clock.now += 31
        with pytest.raises(urllib.error.HTTPError) as unhealthy:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz")
        assert unhealthy.value.code == 503
        assert json.loads(unhealthy.value.read())["problems"] == ["chain head None has not moved for 31s"]
    finally:
        server.stop()


# ================================================================== logs


def test_configure_logging__not_a_tty__json_lines_with_extra_fields() -> None:
    stream = io.StringIO()
    configure_logging("auto", "INFO", stream=stream)
    try:
        logging.getLogger("keeper.test").info("pass done", extra={"pass": {"decided": 3}})
    finally:
        configure_logging("text", "WARNING")
    record = json.loads(stream.getvalue())
    assert (record["level"], record["logger"], record["msg"], record["pass"]) == (
        "INFO",
        "keeper.test",
        "pass done",
        {"decided": 3},
    )


def test_json_formatter__exception__traceback_in_exc_field() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    body = json.loads(JsonFormatter().format(record))
    assert body["msg"] == "failed" and "ValueError: boom" in body["exc"]


# ================================================================== settings


def test_settings__shard_index_not_below_count__refused() -> None:
    with pytest.raises(ValidationError, match="shard_index 2 must be below shard_count 2"):
        KeeperSettings(_env_file=None, shard_count=2, shard_index=2)


def test_settings__deployment_file__proxy_address_used(tmp_path: Path) -> None:
    proxy = "0x" + "ab" * 20
    path = tmp_path / "local.json"
    path.write_text(json.dumps({"network": "local", "proxy": proxy}))
    assert KeeperSettings(_env_file=None, deployment_file=path).resolved_contract_address() == proxy
    override = "0x" + "cd" * 20
    settings = KeeperSettings(_env_file=None, deployment_file=path, contract_address=override)
    assert settings.resolved_contract_address() == override


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("{not json", "JSONDecodeError"),
        ('{"network": "x"}', "KeyError"),
        ('{"proxy": "0x12"}', "'0x12' is not an address"),
    ],
)
def test_settings__bad_deployment_file__typed_error_names_file(
    tmp_path: Path, content: str, detail: str
) -> None:
    path = tmp_path / "local.json"
    path.write_text(content)
    with pytest.raises(DeploymentFileError, match=detail) as refused:
        KeeperSettings(_env_file=None, deployment_file=path).resolved_contract_address()
    assert refused.value.path == path


def test_settings__redacted__never_shows_the_accounts_secret() -> None:
    secret = '{"0x' + "ab" * 32 + '": {"exchange": "binance", "api_key": "k", "secret": "s3cr3t-value"}}'
    dumped = json.dumps(KeeperSettings(_env_file=None, accounts_json=secret).redacted())
    assert "s3cr3t-value" not in dumped and '"accounts_json": "**********"' in dumped
