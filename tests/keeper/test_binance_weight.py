"""Binance request weight per claim (issue 15): calls in the order that settles a claim soonest, and one
income / forceOrders day-window answer shared by the claims of an account, symbol and day: by those whose
verification began before the read did (stored, or in flight in another worker), and by any once its window
has closed.

Each test runs the simulator and the adapter on one controlled clock, counts the weight the simulator
charged for each claim (its request log, priced with ``BINANCE_WEIGHTS``), and replays every claim's own
answers without the shared store to the same outcome.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from support.factories import make_settings

from keeper.evidence import ClaimInput
from keeper.exchanges.answers import RawAnswer, ReplayTransport
from keeper.exchanges.binance import PENALTY_SLACK_MS, BinanceAdapter
from keeper.exchanges.binance_windows import (
    DAY_MS,
    SETTLE_MS,
    GridCellError,
    SharedAnswers,
    grid_cells,
)
from keeper.exchanges.errors import MalformedResponseError
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.transport import HttpTransport, RawResponse, SignRequest
from keeper.exchanges.verifier import fetch
from keeper.interface import Exchange, ReasonCode
from keeper.policy import Decision, PolicyParams, decision_for
from keeper.settings import AccountRegistry
from keeper.sim import binance as sim_binance
from keeper.sim.binance import BINANCE_WEIGHTS
from keeper.sim.generator import ScenarioGenerator
from keeper.sim.scenarios import ExpectedVerdict, OwnedRecord, SimAccount, SimOrder
from keeper.sim.server import SimExchange
from keeper.verification import VerificationOutcome, VerificationRequest

HOUR_MS = 3_600_000
NOON_S = (1_800_000_000 // 86_400) * 86_400 + 12 * 3_600
"""A UTC noon: the liquidations below, a few hours either side of it, share one UTC day."""
ORDER, TRADES, FORCE, INCOME = (
    BINANCE_WEIGHTS["order"],
    BINANCE_WEIGHTS["userTrades"],
    20,  # forceOrders with a symbol
    BINANCE_WEIGHTS["income"],
)


class World:
    """One Binance account on the simulator, its clock and the adapter's the same settable number."""

    def __init__(self, now_s: int = NOON_S) -> None:
        self.now_s = float(now_s)
        self.gen = ScenarioGenerator(15, now=now_s)
        self.owner: SimAccount = self.gen.account("binance")
        self.shared = SharedAnswers()
        self.sim: SimExchange | None = None
        self.accounts: AccountRegistry | None = None
        self.transport: HttpTransport | None = None

    def clock(self) -> datetime:
        return datetime.fromtimestamp(self.now_s, UTC)

    def liquidation(self, time_ms: int, *, penalty: str = "-1.25", kind: str = "full") -> SimOrder:
        order = self.gen.order("binance", self.owner, kind, time_ms=time_ms)
        order.instrument = "BTCUSDT"
        order.penalty = Decimal(penalty) if kind == "full" else Decimal(0)
        return order

    def publish(self, order: SimOrder, reason: ReasonCode) -> ExpectedVerdict:
        sim_binance.publish_order(self.gen.binance, order, self.gen.rng, self.gen.next_id)
        return self.gen.expect(order, "weight", reason=reason)

    def start(self, tmp_path: Path) -> World:
        scenarios = self.gen.scenario_file()
        scenarios.write_keeper_accounts(tmp_path / "accounts.json")
        self.sim = SimExchange(scenarios, clock=lambda: self.now_s).start()
        settings = make_settings(self.sim.url, tmp_path / "accounts.json", tmp_path / "malformed")
        self.accounts = settings.account_registry()
        self.transport = AdapterRegistry(settings).transports()[Exchange.BINANCE]
        return self

    def stop(self) -> None:
        if self.sim is not None:
            self.sim.stop()

    def verify(
        self,
        expected: ExpectedVerdict,
        transport: GatedTransport | None = None,
        seen_ago_s: float | None = None,
    ) -> tuple[VerificationOutcome, int]:
        """The claim verified by a fresh adapter over the shared store, and the weight the simulator
        charged meanwhile (the claim's own while no other claim runs). ``seen_ago_s``: the keeper saw the
        claim that long before the verification (None: not known, as a one-off ``verify`` asks)."""
        assert self.sim is not None and self.accounts is not None and self.transport is not None
        claim = ClaimInput.model_validate(expected.claim)
        adapter = BinanceAdapter(
            self.accounts.lookup(claim.account_ref),
            transport or self.transport,
            clock=self.clock,
            shared_answers=self.shared,
        )
        seen_before = len(self.sim.state.seen)
        request = self.request(expected)
        if seen_ago_s is not None:
            # The keeper's own clock is the system's; the adapter's is the world's: the age carries across.
            seen_at_ms = int((time.time() - seen_ago_s) * 1000)
            request = request.model_copy(update={"seen_at_ms": seen_at_ms})
        outcome = fetch(adapter, request)
        return outcome, self.weight_since(seen_before)

    def weight_since(self, seen_before: int) -> int:
        assert self.sim is not None
        # The transport's clock sync (GET /fapi/v1/time, weight 1, once per transport) is no claim's call.
        seen = [s.raw_path for s in self.sim.state.seen[seen_before:] if "/fapi/v1/time" not in s.raw_path]
        return sum(_weight(path) for path in seen)

    def gated(self, path: str) -> GatedTransport:
        assert self.transport is not None
        return GatedTransport(self.transport, path)

    def request(self, expected: ExpectedVerdict) -> VerificationRequest:
        claim = ClaimInput.model_validate(expected.claim)
        return VerificationRequest.for_claim(claim, int(self.gen.policy["claim_window_seconds"]))

    def replay(self, expected: ExpectedVerdict, live: VerificationOutcome) -> VerificationOutcome:
        """The claim re-derived from its own answers alone: no store, no network."""
        assert self.accounts is not None
        claim = ClaimInput.model_validate(expected.claim)
        transport = ReplayTransport("binance", live.answers)
        adapter = BinanceAdapter(self.accounts.lookup(claim.account_ref), transport, clock=transport.clock)
        replayed = fetch(adapter, live.request)
        assert transport.unused() == []
        return replayed

    def decided(self, expected: ExpectedVerdict, outcome: VerificationOutcome) -> Decision:
        policy = PolicyParams.model_validate(self.gen.policy)
        decision = decision_for(ClaimInput.model_validate(expected.claim), policy, outcome)
        assert isinstance(decision, Decision), f"{outcome.error}: {outcome.detail}"
        return decision


class GatedTransport:
    """The world's transport, holding the first GET of ``path`` until ``release`` is set (``reached`` says it
    is held): another claim's steps then run between two of this claim's, at a chosen point."""

    exchange = "binance"

    def __init__(self, inner: HttpTransport, path: str) -> None:
        self.inner = inner
        self.path = path
        self.reached = threading.Event()
        self.release = threading.Event()

    @property
    def shared(self) -> None:
        return None  # public reference data: none of the calls here read any

    def get(self, path: str, query: str, sign: SignRequest, limiter_key: str, weight: int = 1) -> RawResponse:
        if path == self.path and not self.reached.is_set():
            self.reached.set()
            assert self.release.wait(10), "the gate was never released"
        return self.inner.get(path, query, sign, limiter_key, weight)

    def save_malformed(self, error: MalformedResponseError) -> MalformedResponseError:
        return self.inner.save_malformed(error)

    def raise_if_backing_off(self, endpoint: str) -> None:
        self.inner.raise_if_backing_off(endpoint)


class Verifying(threading.Thread):
    """``World.verify`` in a thread of its own (a second worker)."""

    def __init__(
        self, world: World, expected: ExpectedVerdict, transport: GatedTransport | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.world, self.expected, self.transport = world, expected, transport
        self.outcome: VerificationOutcome | None = None

    def run(self) -> None:
        self.outcome, _ = self.world.verify(self.expected, self.transport)

    def result(self) -> VerificationOutcome:
        self.join(10)
        assert self.outcome is not None, "the verification did not finish"
        return self.outcome


def _weight(raw_path: str) -> int:
    parts = urlsplit(raw_path)
    endpoint = parts.path.removeprefix("/fapi/v1/")
    if endpoint == "forceOrders":
        return 20 if dict(parse_qsl(parts.query)).get("symbol") else 50
    return BINANCE_WEIGHTS[endpoint]


def _paths(outcome: VerificationOutcome) -> list[str]:
    return [urlsplit(a.request.removeprefix("GET ")).path.removeprefix("/fapi/v1/") for a in outcome.answers]


@pytest.fixture
def world() -> Iterator[World]:
    built = World()
    yield built
    built.stop()


def _at(hours_before_noon: float) -> int:
    return NOON_S * 1000 - int(hours_before_noon * HOUR_MS)


# ------------------------------------------------------------------------------- weight per claim


def test_fetch__non_liquidation__order_and_trades_only__weight_6(world: World, tmp_path: Path) -> None:
    expected = world.publish(world.liquidation(_at(3), kind="none"), ReasonCode.NOT_LIQUIDATED)
    world.start(tmp_path)

    outcome, weight = world.verify(expected)

    assert world.decided(expected, outcome).reason_code is ReasonCode.NOT_LIQUIDATED
    assert (weight, _paths(outcome)) == (ORDER + TRADES, ["order", "userTrades"])


def test_fetch__single_liquidation__order_trades_income_then_force_orders__weight_56(
    world: World, tmp_path: Path
) -> None:
    expected = world.publish(world.liquidation(_at(3)), ReasonCode.APPROVED)
    world.start(tmp_path)

    outcome, weight = world.verify(expected)

    decision = world.decided(expected, outcome)
    assert (decision.reason_code, decision.payout) == (ReasonCode.APPROVED, expected.payout)
    assert outcome.evidence is not None and outcome.evidence.liquidation_penalty == Decimal("-1.25")
    # Income before forceOrders: every forced order that could own a penalty row is then in sight.
    assert _paths(outcome) == ["order", "userTrades", "income", "forceOrders"]
    assert weight == ORDER + TRADES + INCOME + FORCE


def test_fetch__five_liquidations_one_account_symbol_day__one_income_and_force_orders_read__shared(
    world: World, tmp_path: Path
) -> None:
    expected = [world.publish(world.liquidation(_at(6 - h)), ReasonCode.APPROVED) for h in range(5)]
    world.start(tmp_path)

    results = [world.verify(e) for e in expected]

    weights = [weight for _, weight in results]
    assert weights == [ORDER + TRADES + INCOME + FORCE] + [ORDER + TRADES] * 4
    assert sum(weights) / len(weights) == 16.0  # 56 alone, 16 a claim for five
    assert (world.shared.reads, world.shared.hits) == (2, 8)
    first_income = next(a for a in results[0][0].answers if "/income?" in a.request)
    for e, (outcome, _) in zip(expected, results, strict=True):
        decision = world.decided(e, outcome)
        assert (decision.reason_code, decision.payout) == (ReasonCode.APPROVED, e.payout)
        assert outcome.evidence is not None
        assert outcome.evidence.liquidation_penalty == Decimal("-1.25")  # its own row only, of five
        # The shared answer is recorded in every claim's answers, as read: the replay needs it.
        assert first_income in outcome.answers
        assert world.replay(e, outcome).model_dump() == outcome.model_dump()


def test_fetch__liquidations_of_two_symbols_one_day__one_income_read_without_symbol__own_rows_only(
    world: World, tmp_path: Path
) -> None:
    btc = world.publish(world.liquidation(_at(4), penalty="-2"), ReasonCode.APPROVED)
    eth_order = world.liquidation(_at(3), penalty="-3")
    eth_order.instrument = "ETHUSDT"
    eth = world.publish(eth_order, ReasonCode.APPROVED)
    world.start(tmp_path)

    (btc_outcome, btc_weight), (eth_outcome, eth_weight) = world.verify(btc), world.verify(eth)

    # Income weighs 30 with or without a symbol: one day of the account serves both; forceOrders is per
    # symbol (20, against 50 without).
    assert (btc_weight, eth_weight) == (ORDER + TRADES + INCOME + FORCE, ORDER + TRADES + FORCE)
    income = next(a for a in eth_outcome.answers if "/income?" in a.request)
    assert "symbol" not in dict(parse_qsl(urlsplit(income.request).query))
    assert btc_outcome.evidence is not None and eth_outcome.evidence is not None
    assert (btc_outcome.evidence.liquidation_penalty, eth_outcome.evidence.liquidation_penalty) == (
        Decimal("-2"),
        Decimal("-3"),
    )
    assert world.decided(eth, eth_outcome).payout == eth.payout
    assert world.replay(eth, eth_outcome).model_dump() == eth_outcome.model_dump()


def test_fetch__shared_day_window__asks_the_utc_day_and_records_it_in_each_claim(
    world: World, tmp_path: Path
) -> None:
    expected = world.publish(world.liquidation(_at(3)), ReasonCode.APPROVED)
    world.start(tmp_path)

    outcome, _ = world.verify(expected)

    day_start = (NOON_S * 1000 // DAY_MS) * DAY_MS
    shared = [dict(parse_qsl(urlsplit(a.request).query)) for a in outcome.answers if "Orders?" in a.request]
    shared += [dict(parse_qsl(urlsplit(a.request).query)) for a in outcome.answers if "income?" in a.request]
    assert [(q["startTime"], q["endTime"]) for q in shared] == [
        (str(day_start), str(day_start + DAY_MS - 1))
    ] * 2


def test_fetch__adl_and_liquidation_of_one_symbol_day__one_force_orders_read__adl_no_rival(
    world: World, tmp_path: Path
) -> None:
    adl = world.publish(world.liquidation(_at(3), kind="adl"), ReasonCode.ADL_NOT_COVERED)
    forced_order = world.liquidation(_at(2.75), penalty="-4")
    sim_binance.publish_order(
        world.gen.binance, forced_order, world.gen.rng, world.gen.next_id, penalty_trade_id=False
    )
    forced = world.gen.expect(forced_order, "weight", reason=ReasonCode.APPROVED)
    world.start(tmp_path)

    (adl_outcome, adl_weight), (outcome, weight) = world.verify(adl), world.verify(forced)

    # The day's forced orders of the symbol, of both types, read once (20, like either typed request).
    (day,) = [a for a in adl_outcome.answers if "Orders?" in a.request]
    assert "autoCloseType" not in dict(parse_qsl(urlsplit(day.request).query))
    assert (adl_weight, weight) == (ORDER + TRADES + FORCE, ORDER + TRADES + INCOME)
    assert day in outcome.answers
    # The ADL order 15 minutes earlier is no liquidation: it does not compete for the id-less penalty row.
    assert outcome.evidence is not None and outcome.evidence.liquidation_penalty == Decimal("-4")
    assert world.decided(forced, outcome).payout == forced.payout
    assert world.decided(adl, adl_outcome).reason_code is ReasonCode.ADL_NOT_COVERED
    assert world.replay(forced, outcome).model_dump() == outcome.model_dump()
    assert world.replay(adl, adl_outcome).model_dump() == adl_outcome.model_dump()


# ------------------------------------------------------------------------------- when an answer is not shared


def test_fetch__liquidation_on_the_next_utc_day__cached_day_does_not_cover_it__reads_its_own(
    world: World, tmp_path: Path
) -> None:
    today = world.publish(world.liquidation(_at(3)), ReasonCode.APPROVED)
    tomorrow = world.publish(world.liquidation(_at(-14)), ReasonCode.APPROVED)  # 02:00 the next day
    world.now_s = NOON_S + 18 * 3_600
    world.start(tmp_path)

    (_, first), (outcome, second) = world.verify(today), world.verify(tomorrow)

    assert (first, second) == (ORDER + TRADES + INCOME + FORCE,) * 2
    assert world.shared.hits == 0
    assert world.decided(tomorrow, outcome).payout == tomorrow.payout


def test_fetch__cached_day_read_before_a_later_claims_window_closed__not_reused__its_penalty_found(
    world: World, tmp_path: Path
) -> None:
    early = world.publish(world.liquidation(_at(3)), ReasonCode.APPROVED)
    late_order = world.liquidation(_at(0.5), penalty="-7.5")
    late = world.publish(late_order, ReasonCode.APPROVED)
    # The late liquidation's penalty is not posted yet when the early claim is verified at noon.
    late_penalty: OwnedRecord = world.gen.binance.income.pop()
    world.start(tmp_path)

    _, early_weight = world.verify(early)  # reads and stores the day at noon
    world.gen.binance.income.append(late_penalty)
    world.now_s = NOON_S + 2 * 3_600  # the late window closed at 13:30 (plus the settle minute)
    outcome, late_weight = world.verify(late)

    # Read at noon, before the late claim's window ended at 12:30 + 1 h: the stored day may lack rows.
    stored_at = NOON_S * 1000
    assert stored_at < late_order.time_ms + PENALTY_SLACK_MS + SETTLE_MS
    assert (early_weight, late_weight) == (ORDER + TRADES + INCOME + FORCE,) * 2
    assert outcome.evidence is not None and outcome.evidence.liquidation_penalty == Decimal("-7.5")
    assert world.decided(late, outcome).payout == late.payout
    assert world.replay(late, outcome).model_dump() == outcome.model_dump()


def test_fetch__window_still_open__asks_the_utc_day_too__stored_for_the_others(
    world: World, tmp_path: Path
) -> None:
    # Liquidated 20 minutes ago: its penalty may still come, but a read of the day now holds every row a read
    # of its own window now would, so it asks the day, and claims begun by now can share it.
    order = world.liquidation(_at(1 / 3))
    expected = world.publish(order, ReasonCode.APPROVED)
    world.start(tmp_path)

    outcome, weight = world.verify(expected)

    income = next(a for a in outcome.answers if "/income?" in a.request)
    query = dict(parse_qsl(urlsplit(income.request).query))
    day_start = (NOON_S * 1000 // DAY_MS) * DAY_MS
    assert (query["startTime"], query["endTime"]) == (str(day_start), str(day_start + DAY_MS - 1))
    assert (weight, len(world.shared)) == (ORDER + TRADES + INCOME + FORCE, 2)
    assert world.decided(expected, outcome).payout == expected.payout
    assert world.replay(expected, outcome).model_dump() == outcome.model_dump()


def _two_liquidations_one_symbol_day(world: World) -> tuple[ExpectedVerdict, ExpectedVerdict]:
    """Approved liquidations at 11:40 and 11:50 on one account and symbol, penalties -2 and -3: their
    windows (to 12:40 and 12:50 plus the settling minute) are open at noon."""
    first = world.publish(world.liquidation(_at(1 / 3), penalty="-2"), ReasonCode.APPROVED)
    second = world.publish(world.liquidation(_at(1 / 6), penalty="-3"), ReasonCode.APPROVED)
    return first, second


def _penalty_paid_and_replayed(
    world: World, expected: ExpectedVerdict, outcome: VerificationOutcome, penalty: Decimal
) -> None:
    assert outcome.evidence is not None and outcome.evidence.liquidation_penalty == penalty
    assert world.decided(expected, outcome).payout == expected.payout
    assert world.replay(expected, outcome).model_dump() == outcome.model_dump()


def test_fetch__window_open__day_read_after_the_claim_began__shared__its_penalty_in_it(
    world: World, tmp_path: Path
) -> None:
    first, second = _two_liquidations_one_symbol_day(world)
    world.start(tmp_path)
    gate = world.gated("/fapi/v1/order")
    # The second claim's verification begins at noon and is held before its first call ...
    late = Verifying(world, second, gate)
    late.start()
    assert gate.reached.wait(10)
    seen_before = len(world.sim.state.seen) if world.sim else 0
    world.now_s = NOON_S + 60
    # ... while the first claim reads the day a minute later, both windows open (they end at 12:50 and 13:00).
    _, first_weight = world.verify(first)
    gate.release.set()
    outcome = late.result()

    read_at = NOON_S * 1000 + 60_000
    assert read_at < _at(1 / 3) + PENALTY_SLACK_MS + SETTLE_MS
    assert first_weight == ORDER + TRADES + INCOME + FORCE
    assert world.weight_since(seen_before) - first_weight == ORDER + TRADES  # income and forceOrders shared
    assert (world.shared.reads, world.shared.hits) == (2, 2)
    assert [a.observed_at_ms for a in outcome.answers if "Orders?" in a.request] == [read_at]
    _penalty_paid_and_replayed(world, second, outcome, Decimal("-3"))


def test_fetch__window_open__day_read_after_the_claim_was_seen__shared_though_read_before_it_began(
    world: World, tmp_path: Path
) -> None:
    # A backlog: both claims were on chain, and seen by the keeper, before noon; the first is verified at
    # noon, the second two minutes later. The noon read is one the keeper could have made for the second
    # claim the moment it saw it, so it serves.
    first, second = _two_liquidations_one_symbol_day(world)
    world.start(tmp_path)

    _, first_weight = world.verify(first, seen_ago_s=30)
    world.now_s = NOON_S + 120
    outcome, second_weight = world.verify(second, seen_ago_s=150)

    assert _at(1 / 6) + PENALTY_SLACK_MS > NOON_S * 1000  # the second claim's window is still open
    assert (first_weight, second_weight) == (ORDER + TRADES + INCOME + FORCE, ORDER + TRADES)
    assert (world.shared.reads, world.shared.hits) == (2, 2)
    _penalty_paid_and_replayed(world, second, outcome, Decimal("-3"))


def test_fetch__window_open__day_read_before_the_claim_was_seen__not_shared(
    world: World, tmp_path: Path
) -> None:
    first, second = _two_liquidations_one_symbol_day(world)
    world.start(tmp_path)

    world.verify(first, seen_ago_s=30)
    world.now_s = NOON_S + 120
    # Seen a minute after the noon read: that read may predate the claim's filing.
    _, second_weight = world.verify(second, seen_ago_s=60)

    assert second_weight == ORDER + TRADES + INCOME + FORCE
    assert (world.shared.reads, world.shared.hits) == (4, 0)


def test_fetch__window_open__day_read_before_the_claim_began__not_shared__late_penalty_found(
    world: World, tmp_path: Path
) -> None:
    early = world.publish(world.liquidation(_at(0.5)), ReasonCode.APPROVED)
    late_order = world.liquidation(_at(1 / 6), penalty="-7.5")
    late = world.publish(late_order, ReasonCode.APPROVED)
    # The late liquidation's penalty is not posted yet when the early claim is verified at noon.
    late_penalty: OwnedRecord = world.gen.binance.income.pop()
    world.start(tmp_path)

    _, early_weight = world.verify(early)  # reads and stores the day at noon
    world.gen.binance.income.append(late_penalty)
    world.now_s = NOON_S + 300  # the late claim begins five minutes later, its window still open
    outcome, late_weight = world.verify(late)

    # Read at noon, before the late claim began and before its window closed: the stored day may lack rows.
    assert late_order.time_ms + PENALTY_SLACK_MS + SETTLE_MS > NOON_S * 1000
    assert (early_weight, late_weight) == (ORDER + TRADES + INCOME + FORCE,) * 2
    assert (world.shared.reads, world.shared.hits) == (4, 0)
    assert outcome.evidence is not None and outcome.evidence.liquidation_penalty == Decimal("-7.5")
    assert world.decided(late, outcome).payout == late.payout
    assert world.replay(late, outcome).model_dump() == outcome.model_dump()


def test_fetch__shared_income_read_after_the_shared_force_orders__force_orders_read_again__rival_seen(
    world: World, tmp_path: Path
) -> None:
    btc = world.publish(world.liquidation(_at(1 / 3)), ReasonCode.APPROVED)  # 11:40
    late = world.publish(world.liquidation(_at(1 / 6), penalty="-3"), ReasonCode.APPROVED)  # 11:50
    eth_order = world.liquidation(_at(0.25))
    eth_order.instrument = "ETHUSDT"
    eth = world.publish(eth_order, ReasonCode.APPROVED)
    # A rival forced order of BTCUSDT at 11:55 (not claimed) and its penalty row, naming its own trade,
    # become visible only after the first BTC claim read the day's forced orders.
    world.publish(world.liquidation(_at(1 / 12), penalty="-9"), ReasonCode.APPROVED)
    rival_order, rival_penalty = world.gen.binance.force_orders.pop(), world.gen.binance.income.pop()
    world.start(tmp_path)
    gate = world.gated("/fapi/v1/order")
    held = Verifying(world, late, gate)  # begins at noon, held before its first call
    held.start()
    assert gate.reached.wait(10)
    world.now_s = NOON_S + 60
    world.verify(btc)  # the day's income and BTC forced orders, read at 12:01
    world.gen.binance.force_orders.append(rival_order)
    world.gen.binance.income.append(rival_penalty)
    world.now_s = NOON_S + 180
    world.verify(eth)  # began after 12:01: reads the day's income again, the rival's row in it
    seen_before = len(world.sim.state.seen) if world.sim else 0
    world.now_s = NOON_S + 240
    gate.release.set()
    outcome = held.result()

    # The income answer (read at 12:03) serves the held claim, begun at noon. The forced orders read at 12:01
    # are older than that income answer and might lack the owner of one of its rows: read again.
    assert world.weight_since(seen_before) == ORDER + TRADES + FORCE
    assert [a.observed_at_ms for a in outcome.answers if "/income?" in a.request] == [NOON_S * 1000 + 180_000]
    assert [a.observed_at_ms for a in outcome.answers if "Orders?" in a.request] == [NOON_S * 1000 + 240_000]
    # The rival's row names the rival's trade, and the rival is in sight: not this order's, not a mystery.
    assert outcome.evidence is not None and outcome.evidence.liquidation_penalty == Decimal("-3")
    assert world.decided(late, outcome).payout == late.payout
    assert world.replay(late, outcome).model_dump() == outcome.model_dump()


def test_fetch__two_workers__day_read_in_flight__the_other_waits_for_it__read_once(
    tmp_path: Path,
) -> None:
    world = World()
    waiting = threading.Event()

    def wait(done: threading.Event) -> bool:
        waiting.set()  # the second worker is now waiting for the first one's read
        return done.wait(10)

    world.shared = SharedAnswers(wait=wait)
    first, second = _two_liquidations_one_symbol_day(world)
    try:
        world.start(tmp_path)
        gate = world.gated("/fapi/v1/income")
        reader = Verifying(world, first, gate)
        reader.start()
        assert gate.reached.wait(10)  # the first worker's income read has begun, its answer not in yet
        joiner = Verifying(world, second)
        joiner.start()
        assert waiting.wait(10)
        gate.release.set()
        outcomes = [reader.result(), joiner.result()]
    finally:
        world.stop()

    income = [a for a in world.sim.state.seen if "/fapi/v1/income" in a.raw_path] if world.sim else []
    assert len(income) == 1
    assert world.shared.joined >= 1  # the income, and the forceOrders unless it was stored by then
    assert world.shared.reads == 2 and world.shared.joined + world.shared.hits == 2
    assert world.weight_since(0) == 2 * (ORDER + TRADES) + INCOME + FORCE
    (first_income,) = [a for a in outcomes[0].answers if "/income?" in a.request]
    assert first_income in outcomes[1].answers
    for expected, outcome, penalty in zip((first, second), outcomes, ("-2", "-3"), strict=True):
        assert outcome.evidence is not None and outcome.evidence.liquidation_penalty == Decimal(penalty)
        assert world.decided(expected, outcome).payout == expected.payout
        assert world.replay(expected, outcome).model_dump() == outcome.model_dump()


def test_fetch__window_crossing_midnight_utc__reads_its_own_window__never_two_days(
    world: World, tmp_path: Path
) -> None:
    order = world.liquidation(_at(12.5))  # 23:30: its penalty window ends at 00:30
    expected = world.publish(order, ReasonCode.APPROVED)
    world.start(tmp_path)

    outcome, weight = world.verify(expected)

    income = next(a for a in outcome.answers if "/income?" in a.request)
    query = dict(parse_qsl(urlsplit(income.request).query))
    assert query["endTime"] == str(order.time_ms + PENALTY_SLACK_MS)
    assert (weight, len(world.shared)) == (ORDER + TRADES + INCOME + FORCE, 0)
    assert world.decided(expected, outcome).payout == expected.payout


def test_fetch__day_holding_100_forced_orders__falls_back_to_its_own_window__approved(
    world: World, tmp_path: Path
) -> None:
    order = world.liquidation(_at(3))
    expected = world.publish(order, ReasonCode.APPROVED)
    own = world.gen.binance.force_orders[-1]
    day_start = (NOON_S * 1000 // DAY_MS) * DAY_MS
    for index in range(100):  # forced orders of the same day, hours away from this one: not its rivals
        at = day_start + index * 1_000
        wire = {**own.wire, "orderId": 10**12 + index, "time": at, "updateTime": at}
        world.gen.binance.force_orders.append(OwnedRecord(owner=own.owner, wire=wire))
    world.start(tmp_path)

    outcome, weight = world.verify(expected)

    # forceOrders' limit is 100: a full day may hide rows, so the claim asks its own window too.
    assert _paths(outcome) == ["order", "userTrades", "income", "forceOrders", "forceOrders"]
    assert weight == ORDER + TRADES + INCOME + 2 * FORCE
    assert world.decided(expected, outcome).payout == expected.payout
    assert world.replay(expected, outcome).model_dump() == outcome.model_dump()


# ------------------------------------------------------------------------------- the store and the grid


def _answer(request: str, observed_at_ms: int, status: int = 200) -> RawAnswer:
    return RawAnswer(request=request, status=status, body=b"[]", observed_at_ms=observed_at_ms)


def _reading(request: str, at: int, status: int = 200) -> Callable[[], RawAnswer]:
    return lambda: _answer(request, at + 40, status)  # arrives 40 ms after its read began


def _at_ms(at: int) -> Callable[[], int]:
    return lambda: at


def test_shared_answers__read_began_before_fresh_after__read_again_and_replaced() -> None:
    store = SharedAnswers()

    first, shared = store.answer_for("acct", "GET /x", 100, _reading("GET /x", 100), _at_ms(100))
    assert (first.observed_at_ms, shared) == (140, False)
    again, shared = store.answer_for("acct", "GET /x", 100, _reading("GET /x", 150), _at_ms(150))
    assert (again, shared) == (first, True)  # its read began at 100, not before 100
    # Arrived at 140, but began at 100: the exchange may have taken its snapshot before 101.
    newer, shared = store.answer_for("acct", "GET /x", 101, _reading("GET /x", 200), _at_ms(200))
    assert (newer.observed_at_ms, shared) == (240, False)
    other, shared = store.answer_for("other", "GET /x", 0, _reading("GET /x", 300), _at_ms(300))
    assert (other.observed_at_ms, shared) == (340, False)  # another account never shares
    assert (store.hits, store.joined, store.reads, len(store)) == (1, 0, 3, 2)
    latest, shared = store.answer_for("acct", "GET /x", 200, _reading("GET /x", 400), _at_ms(400))
    assert (latest, shared) == (newer, True)


def test_shared_answers__error_answer__not_stored() -> None:
    store = SharedAnswers()
    store.answer_for("acct", "GET /x", 0, _reading("GET /x", 5, status=429), _at_ms(5))
    assert len(store) == 0


def test_shared_answers__over_max_entries__least_recently_used_dropped() -> None:
    store = SharedAnswers(max_entries=2)
    store.answer_for("acct", "a", 0, _reading("a", 1), _at_ms(1))
    store.answer_for("acct", "b", 0, _reading("b", 1), _at_ms(1))
    store.answer_for("acct", "a", 0, _reading("a", 2), _at_ms(2))  # a hit: "a" is now the most recent
    store.answer_for("acct", "c", 0, _reading("c", 3), _at_ms(3))
    _, a_stored = store.answer_for("acct", "a", 0, _reading("a", 4), _at_ms(4))
    _, b_stored = store.answer_for("acct", "b", 0, _reading("b", 5), _at_ms(5))
    assert (a_stored, b_stored) == (True, False)


def test_shared_answers__over_max_bytes__oldest_dropped_until_under() -> None:
    store = SharedAnswers(max_bytes=5)
    store.answer_for("acct", "a", 0, _reading("a", 1), _at_ms(1))  # 2 bytes
    store.answer_for("acct", "b", 0, _reading("b", 1), _at_ms(1))  # 4
    store.answer_for("acct", "c", 0, _reading("c", 1), _at_ms(1))  # 6 > 5: "a" goes
    _, a_stored = store.answer_for("acct", "a", 0, _reading("a", 2), _at_ms(2))
    assert (a_stored, len(store)) == (False, 2)  # re-reading "a" dropped "b" in turn


class InFlight:
    """A store whose first read of a request is held until ``release``; ``waiting`` is set when another
    caller begins to wait for a read in flight."""

    def __init__(self) -> None:
        self.reading, self.release, self.waiting = threading.Event(), threading.Event(), threading.Event()
        self.store = SharedAnswers(wait=self._wait)
        self.reads: list[str] = []
        self.results: dict[str, tuple[RawAnswer, bool]] = {}

    def _wait(self, done: threading.Event) -> bool:
        self.waiting.set()
        return done.wait(10)

    def held_read(self, answer: RawAnswer | Exception) -> Callable[[], RawAnswer]:
        def read() -> RawAnswer:
            self.reads.append("held")
            self.reading.set()
            assert self.release.wait(10)
            if isinstance(answer, Exception):
                raise answer
            return answer

        return read

    def free_read(self, answer: RawAnswer) -> Callable[[], RawAnswer]:
        def read() -> RawAnswer:
            self.reads.append("free")
            return answer

        return read

    def call(
        self, name: str, fresh_after: int, read: Callable[[], RawAnswer], began: int
    ) -> threading.Thread:
        def run() -> None:
            with contextlib.suppress(RuntimeError):
                self.results[name] = self.store.answer_for("acct", "GET /x", fresh_after, read, _at_ms(began))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def test_shared_answers__read_in_flight_began_after_fresh_after__second_caller_waits__one_read() -> None:
    flight = InFlight()
    answer = _answer("GET /x", 140)
    first = flight.call("first", 100, flight.held_read(answer), began=100)
    assert flight.reading.wait(10)
    second = flight.call("second", 100, flight.free_read(_answer("GET /x", 999)), began=120)
    assert flight.waiting.wait(10)  # the second caller waits for the read in flight, not reading its own
    flight.release.set()
    first.join(10)
    second.join(10)

    assert flight.results == {"first": (answer, False), "second": (answer, True)}
    assert flight.reads == ["held"]
    assert (flight.store.reads, flight.store.joined, flight.store.hits) == (1, 1, 0)


def test_shared_answers__read_in_flight_began_before_fresh_after__second_caller_reads_its_own() -> None:
    flight = InFlight()
    held, own = _answer("GET /x", 140), _answer("GET /x", 160)
    first = flight.call("first", 100, flight.held_read(held), began=100)
    assert flight.reading.wait(10)
    # Began at 110, after that read: the answer in flight may lack what 110 sees. No waiting, no lock held.
    second = flight.call("second", 110, flight.free_read(own), began=110)
    second.join(10)
    assert flight.results == {"second": (own, False)}
    flight.release.set()
    first.join(10)

    assert flight.reads == ["held", "free"]
    assert not flight.waiting.is_set()
    # The held read began earlier than the stored one: it does not replace it.
    assert flight.store.answer_for("acct", "GET /x", 105, _reading("GET /x", 0), _at_ms(0)) == (own, True)


def test_shared_answers__read_in_flight_raises__the_waiting_caller_reads_its_own() -> None:
    flight = InFlight()
    own = _answer("GET /x", 160)
    first = flight.call("first", 100, flight.held_read(RuntimeError("connection reset")), began=100)
    assert flight.reading.wait(10)
    second = flight.call("second", 100, flight.free_read(own), began=120)
    assert flight.waiting.wait(10)
    flight.release.set()
    first.join(10)
    second.join(10)

    assert flight.results == {"second": (own, False)}
    assert flight.reads == ["held", "free"]
    assert (flight.store.reads, flight.store.joined, len(flight.store)) == (2, 0, 1)


def test_grid_cells__window_inside_a_day__that_day__across_midnight__two_days() -> None:
    day = 20_000 * DAY_MS
    assert grid_cells(day + 5, day + 10) == [(day, day + DAY_MS - 1)]
    assert grid_cells(day - 5, day + 5) == [(day - DAY_MS, day - 1), (day, day + DAY_MS - 1)]
    with pytest.raises(GridCellError) as raised:
        grid_cells(day + 1, day)
    assert (raised.value.start_ms, raised.value.end_ms) == (day + 1, day)
