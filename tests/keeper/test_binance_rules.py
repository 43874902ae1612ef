"""Binance USD-M rules that change a verdict (issue 12), end to end and on the simulator's wire.

Every claim of ``generate_edge_cases`` for Binance goes through ``Verifier`` against the simulator and is
compared with the generator's own expectation (reason and payout, or the manual-review cause); the
simulator's retention and window rules are probed with raw HTTP; the adapter's answers replay to the same
evidence without credentials or network.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from support.factories import make_settings
from test_sim_wire import binance_query

from keeper.evidence import ClaimInput, ReviewCause
from keeper.exchanges.answers import ReplayTransport
from keeper.exchanges.base import time_windows
from keeper.exchanges.binance import (
    MAX_WINDOW_MS,
    BinanceAdapter,
    margin_asset,
)
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier, fetch
from keeper.interface import ReasonCode
from keeper.policy import Decision, PolicyParams, ReviewNeeded, decision_for
from keeper.settings import AccountRegistry
from keeper.sim import binance as sim_binance
from keeper.sim.generator import ScenarioGenerator
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile, SimAccount
from keeper.sim.server import SimExchange
from keeper.verification import OutcomeStatus, VerificationOutcome, VerificationRequest

DAY_MS = 86_400_000
SEED = 12_2026


@pytest.fixture(scope="module")
def edge_registry(
    edge_sim: SimExchange, edge_accounts: Path, tmp_path_factory: pytest.TempPathFactory
) -> AccountRegistry:
    folder = tmp_path_factory.mktemp("binance-rules")
    return make_settings(edge_sim.url, edge_accounts, folder / "malformed").account_registry()


@pytest.fixture(scope="module")
def edge_verifier(
    edge_sim: SimExchange, edge_accounts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Verifier:
    folder = tmp_path_factory.mktemp("binance-verifier")
    settings = make_settings(edge_sim.url, edge_accounts, folder / "malformed")
    return Verifier(settings.account_registry(), AdapterRegistry(settings), 2)


def _expected(edge: ScenarioFile, scenario: str) -> list[ExpectedVerdict]:
    found = [e for e in edge.expected if e.scenario == f"binance:{scenario}"]
    assert found, f"no binance:{scenario} in the edge-case file"
    return found


def _policy(edge: ScenarioFile) -> PolicyParams:
    return PolicyParams.model_validate(edge.policy)


def _verify(
    verifier: Verifier, edge: ScenarioFile, expected: ExpectedVerdict
) -> tuple[VerificationOutcome, Decision | ReviewNeeded | None]:
    policy = _policy(edge)
    claim = ClaimInput.model_validate(expected.claim)
    outcome = verifier.verify(VerificationRequest.for_claim(claim, policy.claim_window_seconds))
    return outcome, decision_for(claim, policy, outcome)


def _approved(verifier: Verifier, edge: ScenarioFile, scenario: str) -> VerificationOutcome:
    """Verifies every claim of ``scenario``: approved, with the generator's payout and loss."""
    outcome = None
    for expected in _expected(edge, scenario):
        outcome, decision = _verify(verifier, edge, expected)
        assert isinstance(decision, Decision), f"{scenario}: {outcome.error}: {outcome.detail}"
        assert outcome.evidence is not None
        assert (decision.reason_code, decision.payout, outcome.evidence.loss) == (
            ReasonCode.APPROVED,
            expected.payout,
            Decimal(str(expected.loss)),
        )
    assert outcome is not None
    return outcome


def _review(
    verifier: Verifier, edge: ScenarioFile, scenario: str
) -> tuple[VerificationOutcome, ReviewNeeded]:
    (expected,) = _expected(edge, scenario)
    outcome, decision = _verify(verifier, edge, expected)
    assert isinstance(decision, ReviewNeeded), f"{scenario}: {decision!r} ({outcome.error}: {outcome.detail})"
    assert decision.cause.value == expected.review_cause
    return outcome, decision


def _requests(outcome: VerificationOutcome, path: str) -> list[dict[str, str]]:
    return [
        dict(parse_qsl(urlsplit(a.request.removeprefix("GET ")).query))
        for a in outcome.answers
        if urlsplit(a.request.removeprefix("GET ")).path == path
    ]


# ------------------------------------------------------------------------------- verdicts through Verifier


def test_every_binance_edge_case__matches_generator_expectation(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    observed: list[tuple[object, ...]] = []
    wanted: list[tuple[object, ...]] = []
    for expected in (e for e in edge.expected if e.scenario.startswith("binance:")):
        outcome, decision = _verify(edge_verifier, edge, expected)
        if isinstance(decision, ReviewNeeded):
            observed.append((expected.scenario, decision.cause.value))
        else:
            assert decision is not None, f"{expected.scenario}: deferred ({outcome.error}: {outcome.detail})"
            observed.append((expected.scenario, int(decision.reason_code), decision.payout))
        wanted.append(
            (expected.scenario, expected.review_cause)
            if expected.review_cause
            else (expected.scenario, expected.reason_code, expected.payout)
        )
    assert observed == wanted
    assert len(observed) == 12


def test_fetch_evidence__liquidation_10_days_old__user_trades_windowed_around_order__approved(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    # 1.0 asked userTrades with orderId only: Binance then returns the last 7 days, so no fills were found.
    outcome = _approved(edge_verifier, edge, "liquidation_10_days_old")
    assert outcome.evidence is not None
    trades = _requests(outcome, "/fapi/v1/userTrades")
    assert trades and all("startTime" in q and "endTime" in q for q in trades)
    assert all(int(q["endTime"]) - int(q["startTime"]) <= MAX_WINDOW_MS for q in trades)
    for path in ("/fapi/v1/forceOrders", "/fapi/v1/income"):
        windows = _requests(outcome, path)
        assert windows and all(int(q["endTime"]) - int(q["startTime"]) < 7 * DAY_MS for q in windows)


def test_fetch_evidence__liquidation_60_days_old__approved(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    _approved(edge_verifier, edge, "liquidation_60_days_old")


def test_fetch_evidence__unknown_order_span_inside_90_days__order_not_found(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    (expected,) = _expected(edge, "unknown_order_inside_retention")
    outcome, decision = _verify(edge_verifier, edge, expected)
    assert (outcome.status, outcome.error, outcome.reason_code) == (
        OutcomeStatus.REJECTED,
        "not_found",
        ReasonCode.ORDER_NOT_FOUND,
    )
    assert isinstance(decision, Decision)
    assert (decision.reason_code, decision.payout) == (ReasonCode.ORDER_NOT_FOUND, 0)


def test_fetch_evidence__order_aged_out_of_90_days__manual_review_not_rejection(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    # 1.0: -2013 was always a final ORDER_NOT_FOUND, burning the order key of a real liquidation.
    outcome, review = _review(edge_verifier, edge, "order_aged_out")
    assert (outcome.status, outcome.reason_code, review.cause) == (
        OutcomeStatus.NEEDS_REVIEW,
        None,
        ReviewCause.AGED_OUT,
    )
    assert "-2013" in outcome.detail


def test_fetch_evidence__disabled_symbol_1121__manual_review_instrument_not_live(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    # 1.0: -1121 was in NOT_FOUND_CODES: a delisted symbol's liquidation was rejected for good.
    outcome, review = _review(edge_verifier, edge, "disabled_symbol")
    assert (outcome.status, review.cause) == (OutcomeStatus.NEEDS_REVIEW, ReviewCause.INSTRUMENT_NOT_LIVE)
    assert "-1121" in outcome.detail


def test_fetch_evidence__bnb_commission__fee_currency_bnb__manual_review(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    # 1.0 added BNB commissions to USDT PnL and approved.
    outcome, review = _review(edge_verifier, edge, "bnb_commission")
    assert outcome.evidence is not None
    assert (outcome.evidence.settlement_currency, outcome.evidence.fee_currency) == ("USDT", "BNB")
    assert review.cause is ReviewCause.FEE_CURRENCY


def test_fetch_evidence__usdc_margined_symbol__approved_in_usdc(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    # 1.0 hard-coded settlement_currency USDT for every symbol.
    outcome = _approved(edge_verifier, edge, "usdc_margined")
    assert outcome.evidence is not None
    assert (outcome.evidence.instrument, outcome.evidence.settlement_currency) == ("BTCUSDC", "USDC")
    assert (outcome.evidence.fee_currency, outcome.evidence.penalty_currency) == ("USDC", "USDC")


def test_fetch_evidence__usdc_margined_symbol_not_on_allow_list__unsupported_settlement(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    (expected,) = _expected(edge, "usdc_margined")
    claim = ClaimInput.model_validate(expected.claim)
    policy = _policy(edge).model_copy(update={"settlement_currencies": frozenset({"USDT"})})
    outcome = edge_verifier.verify(VerificationRequest.for_claim(claim, policy.claim_window_seconds))
    decision = decision_for(claim, policy, outcome)
    assert isinstance(decision, Decision)
    assert (decision.reason_code, decision.payout) == (ReasonCode.UNSUPPORTED_SETTLEMENT, 0)


def test_fetch_evidence__insurance_clear_without_trade_id_after_update_time__penalty_in_loss(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    # 1.0 matched rows by tradeId only, in time..updateTime+1: this penalty was dropped, the claim underpaid.
    outcome = _approved(edge_verifier, edge, "penalty_without_trade_id_after_update_time")
    evidence = outcome.evidence
    assert evidence is not None and evidence.liquidation_penalty < 0
    assert evidence.loss == -(evidence.realized_pnl + evidence.fees + evidence.liquidation_penalty)


def test_fetch_evidence__insurance_clear_without_trade_id_two_liquidations__manual_review_unmatched_penalty(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    outcome, review = _review(edge_verifier, edge, "penalty_unmatched_two_liquidations")
    assert (outcome.status, review.cause) == (OutcomeStatus.NEEDS_REVIEW, ReviewCause.UNMATCHED_PENALTY)
    assert "no tradeId" in outcome.detail


def test_fetch_evidence__two_autoclose_orders_of_one_liquidation__both_approved(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    pair = _expected(edge, "autoclose_pair")
    assert len(pair) == 2 and pair[0].claim["order_id"] != pair[1].claim["order_id"]
    _approved(edge_verifier, edge, "autoclose_pair")


def test_fetch_evidence__commission_rebate__counted_as_income(
    edge_verifier: Verifier, edge: ScenarioFile
) -> None:
    # 1.0 computed fees as -abs(commission): a rebate became a cost and overstated the loss.
    outcome = _approved(edge_verifier, edge, "commission_rebate")
    evidence = outcome.evidence
    assert evidence is not None and evidence.fees > 0
    assert evidence.loss == -(evidence.realized_pnl + evidence.fees + evidence.liquidation_penalty)


# ------------------------------------------------------------------------------- replay


@pytest.mark.parametrize(
    "scenario",
    ["liquidation_10_days_old", "order_aged_out", "unknown_order_inside_retention", "commission_rebate"],
)
def test_fetch__replayed_over_recorded_answers__same_outcome_without_network(
    scenario: str, edge_verifier: Verifier, edge: ScenarioFile, edge_registry: AccountRegistry
) -> None:
    expected = _expected(edge, scenario)[0]
    claim = ClaimInput.model_validate(expected.claim)
    request = VerificationRequest.for_claim(claim, _policy(edge).claim_window_seconds)
    live = edge_verifier.verify(request)
    transport = ReplayTransport("binance", live.answers)
    adapter = BinanceAdapter(edge_registry.lookup(claim.account_ref), transport, clock=transport.clock)
    replayed = fetch(adapter, request)
    assert replayed.model_dump() == live.model_dump()
    assert [a.digest() for a in replayed.answers] == [a.digest() for a in live.answers]
    assert transport.unused() == []


# ------------------------------------------------------------------------------- helpers


def test_time_windows__ten_days__two_inclusive_windows_of_at_most_7_days() -> None:
    start = 1_700_000_000_000
    windows = list(time_windows(start, start + 10 * DAY_MS, MAX_WINDOW_MS))
    assert windows == [(start, start + MAX_WINDOW_MS), (start + MAX_WINDOW_MS + 1, start + 10 * DAY_MS)]
    assert list(time_windows(start, start, MAX_WINDOW_MS)) == [(start, start)]


@pytest.mark.parametrize(
    ("symbol", "asset"),
    [
        ("BTCUSDT", "USDT"),
        ("ETHUSDC", "USDC"),
        ("BTCUSDT_251226", "USDT"),
        ("BTCFDUSD", "FDUSD"),
        ("BTCUSD_PERP", None),
    ],
)
def test_margin_asset__usd_m_symbol__its_quote(symbol: str, asset: str | None) -> None:
    assert margin_asset(symbol) == asset


def test_fetch_evidence__order_open_longer_than_7_days__trades_read_in_several_windows(
    tmp_path: Path,
) -> None:
    now = int(time.time())
    gen = ScenarioGenerator(3, now=now)
    owner = gen.account("binance")
    order = gen.order("binance", owner, "full", time_ms=(now - 12 * 86_400) * 1000)
    sim_binance.publish_order(gen.binance, order, gen.rng, gen.next_id)
    # The order rested 9 days before the liquidation engine filled it: its fills span more than one window.
    for book in (gen.binance.orders, gen.binance.force_orders):
        book[-1].wire["time"] = order.time_ms - 9 * DAY_MS
    gen.binance.trades[0].wire["time"] = order.time_ms - 9 * DAY_MS + 5
    expected = gen.expect(order, "long_resting_order", reason=ReasonCode.APPROVED)
    scenarios = gen.scenario_file()
    scenarios.write_keeper_accounts(tmp_path / "accounts.json")
    sim = SimExchange(scenarios).start()
    try:
        settings = make_settings(sim.url, tmp_path / "accounts.json", tmp_path / "malformed")
        verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), 1)
        outcome, decision = _verify(verifier, scenarios, expected)
    finally:
        sim.stop()
    assert isinstance(decision, Decision), outcome.detail
    assert (decision.reason_code, decision.payout) == (ReasonCode.APPROVED, expected.payout)
    windows = _requests(outcome, "/fapi/v1/userTrades")
    assert len(windows) == 2
    assert all(int(q["endTime"]) - int(q["startTime"]) <= MAX_WINDOW_MS for q in windows)


# ------------------------------------------------------------------------------- the simulator's wire


def _owner(scenarios: ScenarioFile, api_key: str) -> SimAccount:
    return next(a for a in scenarios.accounts if a.api_key == api_key)


def _binance_account(scenarios: ScenarioFile) -> SimAccount:
    return next(a for a in scenarios.accounts if a.exchange == "binance")


def _get(sim: SimExchange, account: SimAccount, endpoint: str, params: dict[str, str]) -> requests.Response:
    query = binance_query(account, params)
    return requests.get(
        f"{sim.url}/fapi/v1/{endpoint}?{query}", headers={"X-MBX-APIKEY": account.api_key}, timeout=5
    )


def _trade_of(edge: ScenarioFile, scenario: str) -> dict[str, object]:
    (expected,) = _expected(edge, scenario)
    return next(t.wire for t in edge.binance.trades if str(t.wire["orderId"]) == expected.claim["order_id"])


def test_sim_user_trades__no_times__only_last_7_days(edge_sim: SimExchange, edge: ScenarioFile) -> None:
    wire = _trade_of(edge, "liquidation_10_days_old")
    account = _owner(edge, next(t.owner for t in edge.binance.trades if t.wire is wire))
    reply = _get(
        edge_sim, account, "userTrades", {"symbol": str(wire["symbol"]), "orderId": str(wire["orderId"])}
    )
    assert (reply.status_code, reply.json()) == (200, [])
    moment = int(str(wire["time"]))
    windowed = _get(
        edge_sim,
        account,
        "userTrades",
        {"symbol": str(wire["symbol"]), "startTime": str(moment - 1000), "endTime": str(moment + 1000)},
    )
    assert wire in windowed.json()


@pytest.mark.parametrize("endpoint", ["userTrades", "income", "forceOrders", "allOrders"])
def test_sim_history__span_over_7_days__1127(
    endpoint: str, edge_sim: SimExchange, edge: ScenarioFile
) -> None:
    account = _binance_account(edge)
    start = int(time.time() * 1000) - 20 * DAY_MS
    reply = _get(
        edge_sim,
        account,
        endpoint,
        {"symbol": "BTCUSDT", "startTime": str(start), "endTime": str(start + 7 * DAY_MS + 1)},
    )
    assert (reply.status_code, reply.json()) == (
        400,
        {"code": -1127, "msg": "More than 168 hours between startTime and endTime."},
    )


def test_sim_all_orders__span_of_exactly_7_days__1127_must_be_less(
    edge_sim: SimExchange, edge: ScenarioFile
) -> None:
    start = int(time.time() * 1000) - 20 * DAY_MS
    params = {"symbol": "BTCUSDT", "startTime": str(start), "endTime": str(start + 7 * DAY_MS)}
    assert _get(edge_sim, _binance_account(edge), "allOrders", params).json()["code"] == -1127
    assert _get(edge_sim, _binance_account(edge), "userTrades", params).status_code == 200


def test_sim_all_orders__window_around_order__returns_it_with_weight_5(
    edge_sim: SimExchange, edge: ScenarioFile
) -> None:
    (expected,) = _expected(edge, "liquidation_60_days_old")
    record = next(o for o in edge.binance.orders if str(o.wire["orderId"]) == expected.claim["order_id"])
    account = _owner(edge, record.owner)
    moment = int(record.wire["time"])
    params = {"symbol": record.wire["symbol"], "startTime": str(moment - 1000), "endTime": str(moment + 1000)}
    first = _get(edge_sim, account, "allOrders", params)
    second = _get(edge_sim, account, "allOrders", params)
    assert first.json() == [record.wire]
    assert int(second.headers["X-MBX-USED-WEIGHT-1M"]) - int(first.headers["X-MBX-USED-WEIGHT-1M"]) == 5


def test_sim_order__created_100_days_ago__2013(edge_sim: SimExchange, edge: ScenarioFile) -> None:
    (expected,) = _expected(edge, "order_aged_out")
    record = next(o for o in edge.binance.orders if str(o.wire["orderId"]) == expected.claim["order_id"])
    reply = _get(
        edge_sim,
        _owner(edge, record.owner),
        "order",
        {"symbol": record.wire["symbol"], "orderId": expected.claim["order_id"]},
    )
    assert (reply.status_code, reply.json()) == (400, {"code": -2013, "msg": "Order does not exist."})


def test_sim_order__canceled_without_fills__kept_3_days(edge_sim: SimExchange, edge: ScenarioFile) -> None:
    canceled = [o for o in edge.binance.orders if o.wire["status"] == "CANCELED"]
    now = time.time() * 1000
    ages = sorted(((now - int(o.wire["time"])) // DAY_MS, o) for o in canceled)
    assert [age for age, _ in ages] == [2, 5]
    answers = [
        _get(
            edge_sim,
            _owner(edge, o.owner),
            "order",
            {"symbol": o.wire["symbol"], "orderId": str(o.wire["orderId"])},
        )
        for _, o in ages
    ]
    assert [(a.status_code, a.json().get("code")) for a in answers] == [(200, None), (400, -2013)]


def test_sim_disabled_symbol__1121_on_every_signed_endpoint(
    edge_sim: SimExchange, edge: ScenarioFile
) -> None:
    account = _binance_account(edge)
    symbol = sim_binance.DISABLED_SYMBOL
    for endpoint, params in (
        ("order", {"symbol": symbol, "orderId": "1"}),
        ("userTrades", {"symbol": symbol}),
        ("allOrders", {"symbol": symbol}),
    ):
        reply = _get(edge_sim, account, endpoint, params)
        assert (endpoint, reply.status_code, reply.json()) == (
            endpoint,
            400,
            {"code": -1121, "msg": "Invalid symbol."},
        )


def test_sim_bnb_commission_and_usdc_symbol__on_the_wire(edge: ScenarioFile) -> None:
    assert _trade_of(edge, "bnb_commission")["commissionAsset"] == "BNB"
    usdc = _trade_of(edge, "usdc_margined")
    assert (usdc["symbol"], usdc["commissionAsset"]) == ("BTCUSDC", "USDC")
    assert Decimal(str(_trade_of(edge, "commission_rebate")["commission"])) > 0


def test_sim_insurance_clear__empty_trade_id_posted_after_update_time(edge: ScenarioFile) -> None:
    (expected,) = _expected(edge, "penalty_without_trade_id_after_update_time")
    order = next(o.wire for o in edge.binance.orders if str(o.wire["orderId"]) == expected.claim["order_id"])
    rows = [
        i.wire
        for i in edge.binance.income
        if i.wire["symbol"] == order["symbol"]
        and order["time"] <= i.wire["time"] <= order["updateTime"] + 3_600_000
    ]
    assert [(r["tradeId"], r["time"] - order["updateTime"]) for r in rows] == [("", 5 * 60_000)]


def test_sim_user_trades__older_than_6_months__not_served(tmp_path: Path) -> None:
    now = int(time.time())
    gen = ScenarioGenerator(4, now=now)
    owner = gen.account("binance")
    order = gen.order("binance", owner, "full", time_ms=(now - 200 * 86_400) * 1000)
    sim_binance.publish_order(gen.binance, order, gen.rng, gen.next_id)
    sim = SimExchange(gen.scenario_file()).start()
    try:
        params = {
            "symbol": order.instrument,
            "startTime": str(order.time_ms - 1000),
            "endTime": str(order.time_ms + 1000),
        }
        trades = _get(sim, owner, "userTrades", params)
        income = _get(sim, owner, "income", params)
    finally:
        sim.stop()
    assert (trades.status_code, trades.json(), income.status_code, income.json()) == (200, [], 200, [])


def _one_claim_world(
    tmp_path: Path, build: Callable[[ScenarioGenerator, SimAccount], ExpectedVerdict]
) -> tuple[VerificationOutcome, Decision | ReviewNeeded | None]:
    """A simulator serving one claim built by ``build`` (ages relative to now), verified once."""
    gen = ScenarioGenerator(5, now=int(time.time()))
    expected = build(gen, gen.account("binance"))
    scenarios = gen.scenario_file()
    scenarios.write_keeper_accounts(tmp_path / "accounts.json")
    sim = SimExchange(scenarios).start()
    try:
        settings = make_settings(sim.url, tmp_path / "accounts.json", tmp_path / "malformed")
        verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), 1)
        return _verify(verifier, scenarios, expected)
    finally:
        sim.stop()


@pytest.mark.parametrize(
    ("span_starts_days_ago", "verdict"), [(88.9, "not_found"), (89.1, ReviewCause.AGED_OUT.value)]
)
def test_fetch_evidence__unknown_order__rejected_only_inside_90_days_less_margin(
    span_starts_days_ago: float, verdict: str, tmp_path: Path
) -> None:
    def build(gen: ScenarioGenerator, owner: SimAccount) -> ExpectedVerdict:
        window = int(gen.policy["claim_window_seconds"])
        submitted = gen.now - int(span_starts_days_ago * 86_400) + window
        order = gen.order("binance", owner, "full", time_ms=(submitted - 3_600) * 1000)  # never published
        return gen.expect(order, "unknown", reason=ReasonCode.ORDER_NOT_FOUND, submitted_at=submitted)

    outcome, decision = _one_claim_world(tmp_path, build)
    if verdict == "not_found":
        assert isinstance(decision, Decision)
        assert (outcome.error, decision.reason_code) == ("not_found", ReasonCode.ORDER_NOT_FOUND)
    else:
        assert isinstance(decision, ReviewNeeded)
        assert (outcome.status, decision.cause.value) == (OutcomeStatus.NEEDS_REVIEW, verdict)


def test_fetch_evidence__order_89_5_days_old__penalty_rows_may_be_purged__manual_review_aged_out(
    tmp_path: Path,
) -> None:
    # Query Order still has it (90 days), but income keeps "three months": a missing penalty proves nothing.
    def build(gen: ScenarioGenerator, owner: SimAccount) -> ExpectedVerdict:
        order = gen.order("binance", owner, "full", time_ms=(gen.now - int(89.5 * 86_400)) * 1000)
        sim_binance.publish_order(gen.binance, order, gen.rng, gen.next_id)
        return gen.expect(order, "old", review_cause="aged_out")

    outcome, decision = _one_claim_world(tmp_path, build)
    assert isinstance(decision, ReviewNeeded)
    assert decision.cause is ReviewCause.AGED_OUT
    assert "income" in outcome.detail


def test_fetch_evidence__commission_in_two_assets__manual_review_fee_currency(tmp_path: Path) -> None:
    # Part USDT, part BNB: no exchange-reported price converts one into the other.
    def build(gen: ScenarioGenerator, owner: SimAccount) -> ExpectedVerdict:
        order = gen.order("binance", owner, "full", time_ms=(gen.now - 9 * 86_400) * 1000)
        while len(order.trades) < 2:
            order = gen.order("binance", owner, "full", time_ms=(gen.now - 9 * 86_400) * 1000)
        sim_binance.publish_order(gen.binance, order, gen.rng, gen.next_id)
        gen.binance.trades[-1].wire["commissionAsset"] = "BNB"
        return gen.expect(order, "mixed_fees", review_cause="fee_currency")

    outcome, decision = _one_claim_world(tmp_path, build)
    assert isinstance(decision, ReviewNeeded)
    assert (outcome.status, outcome.evidence, decision.cause) == (
        OutcomeStatus.NEEDS_REVIEW,
        None,
        ReviewCause.FEE_CURRENCY,
    )
    assert "BNB, USDT" in outcome.detail


def test_fetch_evidence__insurance_clear_naming_a_trade_of_no_order_in_sight__manual_review_unmatched_penalty(
    tmp_path: Path,
) -> None:
    # Never dropped silently: the row is in the order's window, names a trade that is not the order's, and no
    # other forced order of the symbol is there to own it.
    def build(gen: ScenarioGenerator, owner: SimAccount) -> ExpectedVerdict:
        order = gen.order("binance", owner, "full", time_ms=(gen.now - 9 * 86_400) * 1000)
        order.penalty = Decimal("-2.5")
        sim_binance.publish_order(gen.binance, order, gen.rng, gen.next_id)
        gen.binance.income[-1].wire["tradeId"] = "424242"
        return gen.expect(order, "stray_penalty", review_cause="unmatched_penalty")

    outcome, decision = _one_claim_world(tmp_path, build)
    assert isinstance(decision, ReviewNeeded)
    assert (outcome.status, decision.cause) == (OutcomeStatus.NEEDS_REVIEW, ReviewCause.UNMATCHED_PENALTY)
    assert "names trade 424242" in outcome.detail
