"""Client-side limiting: per-endpoint windows, Binance's reported weight, staying under the limit."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from support.factories import make_settings

from keeper.evidence import ClaimInput
from keeper.exchanges.limits import EndpointLimiter, EndpointRate, LimiterTimeoutError, UsedWeightGate
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.settings import KeeperSettings
from keeper.sim.scenarios import ScenarioFile
from keeper.sim.server import SimExchange, SimLimits
from keeper.verification import OutcomeStatus, VerificationRequest

# The keeper's default claim window: the span a claim's liquidation can fall in.
CLAIM_WINDOW_SECONDS: int = KeeperSettings.model_fields["claim_window_seconds"].default


def test_endpoint_limiter__over_rate__second_batch_waits_for_window() -> None:
    limiter = EndpointLimiter(
        {"trade/order": EndpointRate(5, 400)}, EndpointRate(1, 1000), max_wait_seconds=5
    )
    started = time.monotonic()
    for _ in range(10):
        limiter.acquire("trade/order|user-a")
    assert time.monotonic() - started >= 0.4


def test_endpoint_limiter__other_scope__not_blocked() -> None:
    limiter = EndpointLimiter(
        {"trade/order": EndpointRate(2, 5000)}, EndpointRate(1, 1000), max_wait_seconds=5
    )
    limiter.acquire("trade/order|user-a")
    limiter.acquire("trade/order|user-a")
    started = time.monotonic()
    limiter.acquire("trade/order|user-b")
    assert time.monotonic() - started < 0.1


def test_endpoint_limiter__wait_longer_than_allowed__raises_timeout() -> None:
    limiter = EndpointLimiter({}, EndpointRate(1, 60_000), max_wait_seconds=0.2)
    limiter.acquire("x")
    with pytest.raises(LimiterTimeoutError, match="no capacity for x"):
        limiter.acquire("x")


def test_endpoint_limiter__threads__never_exceed_rate_in_any_window() -> None:
    limiter = EndpointLimiter({}, EndpointRate(4, 300), max_wait_seconds=5)
    grants: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            with limiter.hold("k"), lock:
                grants.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    grants.sort()
    assert len(grants) == 12
    # Stamped inside the hold (where the request is sent): any 5 are more than a period apart.
    assert all(grants[i + 4] - grants[i] >= 0.3 for i in range(len(grants) - 4))


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_endpoint_limiter_hold__request_arrives_late__next_one_waits_a_period_after_its_answer() -> None:
    # The attack the CI run performed by accident: a request granted first reaches the server late (GIL,
    # a new connection, the server's own thread), the next one goes at once. Counted from its grant, the
    # first left the window before the server had counted it, and two arrivals fell in one period.
    limiter = EndpointLimiter({}, EndpointRate(1, 300), max_wait_seconds=2, edge_guard_ms=0)
    arrivals: list[float] = []

    def slow_request() -> None:
        with limiter.hold("k|u"):
            time.sleep(0.2)
            arrivals.append(time.monotonic())

    first = threading.Thread(target=slow_request)
    first.start()
    time.sleep(0.05)
    with limiter.hold("k|u"):
        arrivals.append(time.monotonic())
    first.join()

    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.3


def test_endpoint_limiter_hold__units_in_flight__count_until_done_then_a_period() -> None:
    limiter = EndpointLimiter({}, EndpointRate(3, 400), max_wait_seconds=1, edge_guard_ms=0)
    with limiter.hold("k|u", 2):
        assert limiter.available("k|u") == 1
        assert limiter.ready_in("k|u", 2) == pytest.approx(0.4)  # in flight: as if done now
        time.sleep(0.5)
        assert limiter.available("k|u") == 1  # longer than a period on its way: still counted
    assert limiter.available("k|u") == 1
    assert 0.35 < limiter.ready_in("k|u", 2) <= 0.4


def test_endpoint_limiter_hold__block_raises__units_still_counted() -> None:
    limiter = EndpointLimiter({}, EndpointRate(2, 1000), max_wait_seconds=1)
    with pytest.raises(ConnectionError), limiter.hold("k|u"):
        raise ConnectionError("reset")  # the request may have arrived
    assert limiter.available("k|u") == 1


def test_endpoint_limiter_acquire__weight_above_the_limit__value_error() -> None:
    limiter = EndpointLimiter({}, EndpointRate(3, 400), max_wait_seconds=1)
    with pytest.raises(ValueError, match=re.escape("weight 4 for k|u is outside 1..3")):
        limiter.acquire("k|u", 4)


def test_used_weight_gate__server_near_limit__sleeps_to_next_minute() -> None:
    clock = FakeClock(120.0 + 15.0)
    gate = UsedWeightGate(limit=2400, safety_margin=100, clock=clock.time, sleep=clock.sleep)
    gate.observe(2290)
    assert gate.wait_for(weight=20, max_wait_seconds=60) == 45.0
    assert clock.slept == [45.0]


def test_used_weight_gate__room_left__does_not_sleep() -> None:
    clock = FakeClock(135.0)
    gate = UsedWeightGate(limit=2400, safety_margin=100, clock=clock.time, sleep=clock.sleep)
    gate.observe(2200)
    assert gate.wait_for(weight=100, max_wait_seconds=60) == 0.0


def test_used_weight_gate__new_minute__forgets_old_usage() -> None:
    clock = FakeClock(135.0)
    gate = UsedWeightGate(limit=2400, safety_margin=100, clock=clock.time, sleep=clock.sleep)
    gate.observe(2390)
    clock.now = 181.0
    assert gate.wait_for(weight=50, max_wait_seconds=60) == 0.0


def test_used_weight_gate__wait_beyond_allowed__raises_timeout() -> None:
    clock = FakeClock(121.0)
    gate = UsedWeightGate(limit=2400, safety_margin=0, clock=clock.time, sleep=clock.sleep)
    gate.observe(2400)
    with pytest.raises(LimiterTimeoutError):
        gate.wait_for(weight=1, max_wait_seconds=5)
    assert clock.slept == []


def _requests(scenarios: ScenarioFile, scenario: str, repeat: int) -> list[VerificationRequest]:
    expected = next(e for e in scenarios.expected if e.scenario == scenario)
    return [
        VerificationRequest.for_claim(ClaimInput.model_validate(expected.claim), CLAIM_WINDOW_SECONDS)
    ] * repeat


def test_verify_many__binance_weight_budget__client_stops_before_server_429(
    scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path
) -> None:
    sim = SimExchange(scenarios, limits=SimLimits(binance_weight_per_minute=31)).start()
    settings = make_settings(
        sim.url,
        accounts_file,
        tmp_path,
        binance_weight_limit_per_minute=31,
        binance_weight_safety_margin=0,
        limiter_max_wait_seconds=0.3,
    )
    try:
        verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), max_workers=1)
        # The clock sync costs 1 (/fapi/v1/time) and a normal close order (1) + userTrades (5) = 6 weight:
        # five fit in 31, the sixth must wait.
        outcomes = verifier.verify_many(_requests(scenarios, "binance:normal_close", 6))
    finally:
        sim.stop()
    assert [o.status for o in outcomes] == [OutcomeStatus.VERIFIED] * 5 + [OutcomeStatus.DEFERRED]
    assert outcomes[-1].error == "rate_limited"
    assert 429 not in [status for _, status in sim.state.request_log]


def test_verify_many__okx_burst_on_one_account__paced_under_published_limit(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path
) -> None:
    settings = make_settings(sim.url, accounts_file, tmp_path)
    verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), max_workers=8)
    started = time.monotonic()
    # fills-history allows 10 requests per 2 s per user: 14 lookups need a second window.
    outcomes = verifier.verify_many(_requests(scenarios, "okx:full_liquidation", 14))
    elapsed = time.monotonic() - started
    assert [o.status for o in outcomes] == [OutcomeStatus.VERIFIED] * 14
    assert 429 not in [status for _, status in sim.state.request_log]
    assert elapsed >= 1.9


def test_endpoint_limiter__many_keys__one_background_thread() -> None:
    before = threading.active_count()
    limiter = EndpointLimiter({}, EndpointRate(5, 1000), max_wait_seconds=1)
    for index in range(40):
        limiter.acquire(f"trade/order|user-{index}")
    assert threading.active_count() - before <= 1
