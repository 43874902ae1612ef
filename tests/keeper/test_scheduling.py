"""Per-account scheduling of the verifier and budget-aware admission, on a fake clock with fake adapters."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr
from support.factories import make_settings

from keeper.evidence import LiquidationEvidence
from keeper.exchanges import binance, okx
from keeper.exchanges.admission import (
    Admission,
    BudgetUse,
    ClaimCost,
    UnknownBudgetError,
    admit_within_budget,
)
from keeper.exchanges.base import ExchangeAdapter, OrderQuery
from keeper.exchanges.errors import OrderNotFoundError
from keeper.exchanges.limits import EndpointLimiter, EndpointRate, LimiterNeed
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.scheduling import (
    AccountKey,
    AccountScheduler,
    Job,
    Take,
    Wait,
    job_wait,
    next_ready,
)
from keeper.exchanges.verifier import Verifier
from keeper.interface import Exchange
from keeper.settings import AccountCredentials, AccountRegistry
from keeper.verification import OutcomeStatus, VerificationRequest

WEIGHT = binance.WEIGHT_KEY
A, B, C, D = ("0x" + digit * 64 for digit in "abcd")


# ------------------------------------------------------------------------------------------------ fakes


class FakeClock:
    """Monotonic seconds that move only when a worker sleeps in the scheduler (``wait``)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[tuple[float, list[int]]] = []
        """(seconds asked, the job indexes taken so far) for every scheduler sleep."""
        self.taken: Callable[[], list[int]] = list

    def __call__(self) -> float:
        return self.now

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        self.sleeps.append((seconds, list(self.taken())))
        self.now += seconds
        condition.wait(0.001)  # lets a finishing worker in, as a real wait would


class FakeLimiter:
    """A limiter whose keys are empty until a time on the fake clock, unlimited after it."""

    max_wait_seconds = 30.0

    def __init__(self, clock: FakeClock, empty_until: dict[str, float] | None = None) -> None:
        self.clock = clock
        self.empty_until = dict(empty_until or {})
        self.blocked: list[str] = []
        """Keys acquired while they had no capacity: a worker would have slept in the limiter."""
        self.asked: list[tuple[str, int]] = []
        self._listeners: list[Callable[[str, int], None]] = []

    def rate_for(self, key: str) -> EndpointRate:
        return EndpointRate(10, 2000)

    def ready_in(self, key: str, weight: int = 1) -> float:
        self.asked.append((key, weight))
        return max(0.0, self.empty_until.get(key, 0.0) - self.clock())

    def acquire(self, key: str, weight: int = 1) -> None:
        if self.ready_in(key, weight) > 0:
            self.blocked.append(key)
        for listener in self._listeners:
            listener(key, weight)

    def subscribe(self, listener: Callable[[str, int], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)


def fills_key(api_key: str) -> str:
    return f"trade/fills|{api_key}"


class FakeAdapter(ExchangeAdapter):
    """Takes its needs from the limiter, logs the look-up, answers "not found" (a rejection)."""

    exchange: ClassVar[Exchange] = Exchange.OKX
    retention_ms: ClassVar[int] = 0
    limiter: FakeLimiter
    verified: list[str]
    hooks: dict[str, Callable[[], None]]

    def limiter_needs(self, query: OrderQuery) -> tuple[LimiterNeed, ...]:
        return (LimiterNeed(fills_key(self._credentials.api_key.get_secret_value())),)

    def fetch_evidence(self, query: OrderQuery) -> LiquidationEvidence:
        for need in self.limiter_needs(query):
            self.limiter.acquire(need.key, need.weight)
        self.verified.append(query.order_id)
        self.hooks.get(query.order_id, lambda: None)()
        raise OrderNotFoundError(self.exchange.slug, "GET /fake", f"order {query.order_id}")


class FakeBinanceAdapter(FakeAdapter):
    exchange: ClassVar[Exchange] = Exchange.BINANCE

    def limiter_needs(self, query: OrderQuery) -> tuple[LimiterNeed, ...]:
        return (LimiterNeed(WEIGHT, binance.worst_case_claim_weight()),)


class FakeAdapters(AdapterRegistry):
    def __init__(self, limiter: FakeLimiter, budgets: dict[str, int] | None = None) -> None:
        self.limiter = limiter
        self.budgets = dict(budgets or {})
        self.verified: list[str] = []
        self.hooks: dict[str, Callable[[], None]] = {}

    def adapter_for(self, credentials: AccountCredentials) -> ExchangeAdapter:
        kind = FakeBinanceAdapter if credentials.exchange is Exchange.BINANCE else FakeAdapter
        adapter = kind(credentials, transport=None, clock=lambda: datetime(2026, 12, 1, tzinfo=UTC))  # type: ignore[arg-type]
        adapter.limiter, adapter.verified, adapter.hooks = self.limiter, self.verified, self.hooks
        return adapter

    def limiter_for(self, exchange: Exchange) -> Any:
        return self.limiter

    def remaining_budgets(self) -> dict[str, int]:
        return dict(self.budgets)


def credentials(exchange: Exchange, api_key: str) -> AccountCredentials:
    passphrase = SecretStr("p") if exchange is Exchange.OKX else None
    return AccountCredentials(
        exchange=exchange, api_key=SecretStr(api_key), secret=SecretStr("s"), passphrase=passphrase
    )


def accounts(*refs: tuple[str, Exchange]) -> AccountRegistry:
    return AccountRegistry({ref: credentials(exchange, f"key-{ref[2]}") for ref, exchange in refs})


def request(account_ref: str, order_id: str, exchange: Exchange = Exchange.OKX) -> VerificationRequest:
    return VerificationRequest(
        exchange=exchange, account_ref=account_ref, order_id=order_id, instrument="BTC-USDT-SWAP"
    )


def verifier(clock: FakeClock, registry: FakeAdapters, refs: AccountRegistry, workers: int) -> Verifier:
    built = Verifier(refs, registry, max_workers=workers, clock=clock, wait=clock.wait)
    clock.taken = lambda: list(built.last_schedule.stats.taken) if built.last_schedule else []
    return built


# --------------------------------------------------------------------------- scheduling through verify


def test_verify_stream__one_account_bucket_empty__other_accounts_first_and_no_worker_blocks() -> None:
    clock = FakeClock()
    limiter = FakeLimiter(clock, empty_until={fills_key("key-a"): 10.0})
    registry = FakeAdapters(limiter)
    refs = accounts((A, Exchange.OKX), (B, Exchange.OKX), (C, Exchange.OKX))
    # FIFO order would hand A's claims out first, and both workers would sleep in A's bucket.
    requests = [request(A, "a0"), request(A, "a1"), request(B, "b0"), request(B, "b1")]
    requests += [request(C, "c0"), request(C, "c1")]

    outcomes = list(verifier(clock, registry, refs, workers=2).verify_stream(requests))

    assert set(registry.verified[:4]) == {"b0", "b1", "c0", "c1"}
    assert sorted(registry.verified[4:]) == ["a0", "a1"]
    assert limiter.blocked == []  # no acquire found its key empty: nobody slept in the limiter
    assert clock.sleeps, "the workers had to wait for A's bucket"
    assert all({2, 3, 4, 5} <= set(taken) for _, taken in clock.sleeps)  # only once B and C were all out
    assert clock.now == pytest.approx(10.0)
    assert sorted(index for index, _ in outcomes) == [0, 1, 2, 3, 4, 5]
    assert {outcome.status for _, outcome in outcomes} == {OutcomeStatus.REJECTED}


def test_verify_stream__all_accounts_ready__accounts_take_turns() -> None:
    clock = FakeClock()
    registry = FakeAdapters(FakeLimiter(clock))
    refs = accounts((A, Exchange.OKX), (B, Exchange.OKX), (C, Exchange.OKX))
    requests = [request(A, "a0"), request(A, "a1"), request(A, "a2")]
    requests += [request(B, "b0"), request(B, "b1"), request(B, "b2"), request(C, "c0"), request(C, "c1")]
    built = verifier(clock, registry, refs, workers=1)

    order = [index for index, _ in built.verify_stream(requests)]

    assert order == [0, 3, 6, 1, 4, 7, 2, 5]
    assert registry.verified == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2"]
    assert clock.sleeps == []


def test_verify_stream__caller_stops_early__queued_claims_never_verified() -> None:
    clock = FakeClock()
    registry = FakeAdapters(FakeLimiter(clock))
    refs = accounts((A, Exchange.OKX), (B, Exchange.OKX), (C, Exchange.OKX), (D, Exchange.OKX))
    second_started, release = threading.Event(), threading.Event()

    def hold_second() -> None:
        second_started.set()
        release.wait(5)

    registry.hooks["b0"] = hold_second
    requests = [request(A, "a0"), request(B, "b0"), request(C, "c0"), request(D, "d0")]
    stream = verifier(clock, registry, refs, workers=1).verify_stream(requests)

    first = next(stream)
    assert second_started.wait(5)
    threading.Timer(0.05, release.set).start()
    stream.close()  # returns once the running claim has finished

    assert first[0] == 0
    assert registry.verified == ["a0", "b0"]
    assert not [t for t in threading.enumerate() if t.name.startswith("verify_")]


def test_verify_stream__unknown_account__verified_without_a_forecast() -> None:
    clock = FakeClock()
    limiter = FakeLimiter(clock)
    registry = FakeAdapters(limiter)
    built = verifier(clock, registry, accounts((A, Exchange.OKX)), workers=2)

    outcomes = dict(built.verify_stream([request(B, "b0"), request(A, "a0")]))

    assert outcomes[0].error == "unknown_account"
    assert outcomes[1].status is OutcomeStatus.REJECTED
    assert limiter.asked == [(fills_key("key-a"), 1), (fills_key("key-a"), 1)]  # scheduler, then acquire


def test_verify_many__scheduled__outcomes_in_request_order() -> None:
    clock = FakeClock()
    limiter = FakeLimiter(clock, empty_until={fills_key("key-a"): 3.0})
    registry = FakeAdapters(limiter)
    refs = accounts((A, Exchange.OKX), (B, Exchange.OKX))
    requests = [request(A, "a0"), request(B, "b0"), request(A, "a1")]

    outcomes = verifier(clock, registry, refs, workers=3).verify_many(requests)

    assert [o.request.order_id for o in outcomes] == ["a0", "b0", "a1"]
    assert registry.verified[0] == "b0"


def test_verify_stream__observer_raises__caller_sees_the_error_and_workers_stop() -> None:
    clock = FakeClock()
    registry = FakeAdapters(FakeLimiter(clock))

    def broken(outcome: object, seconds: float) -> None:
        raise RuntimeError("metrics down")

    built = Verifier(accounts((A, Exchange.OKX)), registry, max_workers=1, observe=broken, clock=clock)

    with pytest.raises(RuntimeError, match="metrics down"):
        list(built.verify_stream([request(A, "a0"), request(A, "a1")]))
    assert registry.verified == ["a0"]
    assert not [t for t in threading.enumerate() if t.name.startswith("verify_")]


# --------------------------------------------------------------------------------- the pure decision


class RecordingProbe:
    max_wait_seconds = 30.0

    def __init__(self, waits: dict[tuple[str, int], float] | None = None, limit: int = 10) -> None:
        self.waits = dict(waits or {})
        self.limit = limit
        self.asked: list[tuple[str, int]] = []

    def rate_for(self, key: str) -> EndpointRate:
        return EndpointRate(self.limit, 2000)

    def ready_in(self, key: str, weight: int = 1) -> float:
        self.asked.append((key, weight))
        return self.waits.get((key, weight), 0.0)


def account(ref: str) -> AccountKey:
    return (Exchange.OKX, ref)


def test_next_ready__first_account_empty__takes_the_next_ready_one() -> None:
    heads = {account(A): Job(0, account(A)), account(B): Job(1, account(B))}
    waits = {0: 1.5, 1: 0.0}

    assert next_ready([account(A), account(B)], heads.get, lambda job: waits[job.index]) == Take(
        heads[account(B)]
    )


def test_next_ready__no_account_ready__waits_for_the_earliest() -> None:
    heads = {account(A): Job(0, account(A)), account(B): Job(1, account(B))}
    waits = {0: 1.5, 1: 0.25}

    assert next_ready([account(A), account(B)], heads.get, lambda job: waits[job.index]) == Wait(0.25)


def test_next_ready__wait_beyond_the_limiters_patience__goes_to_the_limiter() -> None:
    heads = {account(A): Job(0, account(A)), account(B): Job(1, account(B))}
    waits = {0: 1.5, 1: 31.0}

    choice = next_ready([account(A), account(B)], heads.get, lambda job: waits[job.index], lambda job: 30.0)

    assert choice == Take(heads[account(B)])


def test_next_ready__nothing_queued__none() -> None:
    assert next_ready([account(A)], {}.get, lambda job: 0.0) is None


def test_job_wait__claims_running_on_the_key__asks_for_their_units_too() -> None:
    probe = RecordingProbe({("k", 3): 0.4})
    job = Job(0, account(A), (LimiterNeed("k"), LimiterNeed("other", 2)), probe)

    assert job_wait(job, {"k": 2}) == 0.4
    assert probe.asked == [("k", 3), ("other", 2)]


def test_job_wait__reservations_beyond_the_limit__asks_for_the_whole_bucket() -> None:
    probe = RecordingProbe(limit=10)

    job_wait(Job(0, account(A), (LimiterNeed("k", 4),), probe), {"k": 9})

    assert probe.asked == [("k", 10)]


def test_scheduler__grants_in_the_workers_thread__turn_reserved_units_into_used() -> None:
    job = Job(0, account(A), (LimiterNeed(WEIGHT, 56),), RecordingProbe(limit=2400))
    scheduler = AccountScheduler([job])

    assert scheduler.take() == job
    assert scheduler.reserved() == {WEIGHT: 56}
    scheduler.note_acquired(WEIGHT, 1)
    other = threading.Thread(target=scheduler.note_acquired, args=(WEIGHT, 20))
    other.start()
    other.join()
    assert scheduler.reserved() == {WEIGHT: 55}  # the other thread runs no job of this scheduler
    scheduler.done(job)
    assert scheduler.reserved() == {}
    assert scheduler.take() is None


# ------------------------------------------------------------------------------------ the limiter probe


def test_endpoint_limiter__bucket_full__no_grant_until_the_oldest_unit_left_plus_the_guard() -> None:
    limiter = EndpointLimiter(
        {"k": EndpointRate(3, 400)}, EndpointRate(10, 1000), max_wait_seconds=1, edge_guard_ms=100
    )
    assert limiter.ready_in("k|u", 3) == 0.0
    for _ in range(3):
        limiter.acquire("k|u")

    assert 0.45 < limiter.ready_in("k|u") <= 0.501
    assert limiter.ready_in("k|other") == 0.0
    assert limiter.available("k|u") == 0
    time.sleep(0.42)
    # Past the period, within the guard: neither the probe nor the limiter itself grants yet (before, the
    # limiter granted here and only the probe kept the guard: a worker's second request drew OKX 429s).
    assert limiter.available("k|u") == 0
    assert limiter.ready_in("k|u", 3) > 0
    time.sleep(0.1)
    assert limiter.ready_in("k|u", 3) == 0.0
    assert limiter.available("k|u") == 3


def test_endpoint_limiter_acquire__bucket_full__waits_out_the_period_and_the_guard() -> None:
    limiter = EndpointLimiter(
        {"k": EndpointRate(2, 300)}, EndpointRate(10, 1000), max_wait_seconds=2, edge_guard_ms=150
    )
    limiter.acquire("k|u")
    limiter.acquire("k|u")
    started = time.monotonic()

    limiter.acquire("k|u")

    assert time.monotonic() - started >= 0.45 - 0.01  # 300 ms period + 150 ms guard (10 ms clock slack)


def test_endpoint_limiter_ready_in__weight_above_the_limit__value_error() -> None:
    limiter = EndpointLimiter({"k": EndpointRate(3, 400)}, EndpointRate(10, 1000), max_wait_seconds=1)

    with pytest.raises(ValueError, match=re.escape("weight 4 for k|u is outside 1..3")):
        limiter.ready_in("k|u", 4)


def test_endpoint_limiter_subscribe__told_every_grant_until_unsubscribed() -> None:
    limiter = EndpointLimiter({}, EndpointRate(10, 1000), max_wait_seconds=1)
    grants: list[tuple[str, int]] = []
    stop = limiter.subscribe(lambda key, weight: grants.append((key, weight)))

    limiter.acquire("a|u", 2)
    stop()
    limiter.acquire("a|u")

    assert grants == [("a|u", 2)]
    assert limiter.available("a|u") == 7


# ------------------------------------------------------------------------------------ what adapters need


def test_okx_limiter_needs__recent_span__order_and_recent_fills_keys() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    adapter = okx.OkxAdapter(credentials(Exchange.OKX, "key-o"), transport=None, clock=lambda: now)  # type: ignore[arg-type]
    now_ms = int(now.timestamp() * 1000)
    user = adapter._limiter_key("trade/fills").split("|")[1]

    recent = adapter.limiter_needs(
        OrderQuery(
            order_id="1", instrument="BTC-USDT-SWAP", not_before_ms=now_ms - 3_600_000, not_after_ms=now_ms
        )
    )
    old = adapter.limiter_needs(
        OrderQuery(
            order_id="1",
            instrument="BTC-USDT-SWAP",
            not_before_ms=now_ms - 5 * okx.DAY_MS,
            not_after_ms=now_ms,
        )
    )

    assert [need.key for need in recent] == [f"trade/order|{user}:BTC-USDT-SWAP", f"trade/fills|{user}"]
    assert old[-1] == LimiterNeed(f"trade/fills-history|{user}")


def test_binance_limiter_needs__worst_case_weight_of_a_claim() -> None:
    adapter = binance.BinanceAdapter(credentials(Exchange.BINANCE, "key-b"), transport=None)  # type: ignore[arg-type]
    query = OrderQuery(order_id="1", instrument="BTCUSDT", not_before_ms=0, not_after_ms=1)

    # order 1 + forceOrders 20 + userTrades 5 + income 30 (the published weights)
    assert adapter.limiter_needs(query) == (LimiterNeed(WEIGHT, 56),)


# ------------------------------------------------------------------------------------------- admission


def cost(weight: int = 56) -> ClaimCost:
    return ClaimCost(budget=WEIGHT, weight=weight)


def test_admit_within_budget__budget_equals_weight__admitted() -> None:
    assert admit_within_budget([cost(), cost()], {WEIGHT: 56}) == Admission(
        admitted=[0],
        waiting=[1],
        budgets={WEIGHT: BudgetUse(remaining=56, reserved=56, admitted=1, waiting=1)},
    )


def test_admit_within_budget__budget_one_below_weight__waits() -> None:
    admission = admit_within_budget([cost(), cost()], {WEIGHT: 55})

    assert (admission.admitted, admission.waiting) == ([], [0, 1])
    assert admission.reason == f"{WEIGHT}: 55 left covers 0 claim(s) (0 reserved), 2 wait"


def test_admit_within_budget__claims_without_cost__always_admitted() -> None:
    admission = admit_within_budget([None, cost(), None, cost(), None], {WEIGHT: 111})

    assert (admission.admitted, admission.waiting) == ([0, 1, 2, 4], [3])


def test_admit_within_budget__cheaper_claim_behind__does_not_overtake() -> None:
    admission = admit_within_budget([cost(56), cost(1)], {WEIGHT: 55})

    assert (admission.admitted, admission.waiting) == ([], [0, 1])


def test_admit_within_budget__budget_not_given__unknown_budget_error() -> None:
    with pytest.raises(UnknownBudgetError, match="claim 1 draws on budget 'binance:weight-1m'"):
        admit_within_budget([None, cost()], {})


def test_verifier_admit__binance_budget_for_two__third_binance_claim_waits_others_admitted() -> None:
    clock = FakeClock()
    registry = FakeAdapters(FakeLimiter(clock), budgets={WEIGHT: 112})
    refs = accounts((A, Exchange.BINANCE), (B, Exchange.OKX), (C, Exchange.BINANCE))
    requests = [
        request(A, "a0", Exchange.BINANCE),
        request(B, "b0"),
        request(C, "c0", Exchange.BINANCE),
        request(A, "a1", Exchange.BINANCE),
        request(D, "d0", Exchange.BINANCE),  # unknown account: no exchange is asked
        request(B, "b1"),
    ]

    admission = verifier(clock, registry, refs, workers=1).admit(requests)

    assert (admission.admitted, admission.waiting) == ([0, 1, 2, 4, 5], [3])
    assert admission.budgets == {WEIGHT: BudgetUse(remaining=112, reserved=112, admitted=2, waiting=1)}
    assert registry.verified == []  # admission asks no exchange


def test_adapter_registry_remaining_budgets__binance_weight_less_margin_and_spent(tmp_path: Path) -> None:
    accounts_file = tmp_path / "accounts.json"
    accounts_file.write_text("{}")
    settings = make_settings(
        "http://127.0.0.1:9",
        accounts_file,
        tmp_path,
        binance_weight_limit_per_minute=2400,
        binance_weight_safety_margin=100,
    )
    registry = AdapterRegistry(settings)
    assert registry.remaining_budgets() == {WEIGHT: 2300}

    limiter = registry.limiter_for(Exchange.BINANCE)
    assert limiter is not None
    limiter.acquire(WEIGHT, 56)

    assert registry.remaining_budgets() == {WEIGHT: 2244}
