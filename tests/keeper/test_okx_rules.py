"""The OKX rules of issue 12 end to end: the adapter against a simulator that knows the real limits.

Every edge case of ``keeper.sim.okx.publish_edge_cases`` goes through ``Verifier`` and ``decision_for`` and is
compared with the generator's expectation; the adapter's path (which endpoints it asked) is checked too,
because the rule is as much about where it looked as about the verdict. Wire-level corner cases replay
recorded answers with one field changed (``ReplayTransport``), so no simulator hook is needed for them.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from support.factories import make_settings, observed_verdict, request_for, wanted_verdict

from keeper.evidence import ClaimInput, LiquidationKind, ReviewCause
from keeper.exchanges.answers import RawAnswer, ReplayTransport
from keeper.exchanges.errors import Disposition
from keeper.exchanges.okx import OkxAdapter, inst_type_of, okx_signature, okx_timestamp
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier, fetch
from keeper.interface import Exchange, ReasonCode
from keeper.policy import Decision, PolicyParams, decision_for
from keeper.settings import AccountCredentials
from keeper.sim import okx as sim_okx
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile, SimAccount
from keeper.sim.server import SimExchange, SimLimits
from keeper.sim.wire import ExchangeState
from keeper.verification import OutcomeStatus, VerificationOutcome, VerificationRequest

SEED = 12_2026
NOW = int(time.time())
"""The simulator serves the file on the real clock: OKX refuses timestamps more than 30 s off."""
REPLAY_CREDENTIALS = AccountCredentials(
    exchange=Exchange.OKX, api_key="replay", secret="replay", passphrase="replay"
)


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def policy(edge: ScenarioFile) -> PolicyParams:
    return PolicyParams.model_validate(edge.policy)


@pytest.fixture(scope="module")
def verifier(
    edge_sim: SimExchange, edge_accounts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Verifier:
    settings = make_settings(edge_sim.url, edge_accounts, tmp_path_factory.mktemp("okx-rules") / "malformed")
    return Verifier(settings.account_registry(), AdapterRegistry(settings), settings.verify_workers)


@pytest.fixture(scope="module")
def outcomes(
    edge: ScenarioFile, verifier: Verifier, policy: PolicyParams
) -> dict[str, tuple[ExpectedVerdict, VerificationOutcome]]:
    """Every OKX edge case verified once, by scenario name (without the ``okx:`` prefix)."""
    cases = [e for e in edge.expected if e.scenario.startswith("okx:")]
    requests = [request_for(e, policy) for e in cases]
    verified = verifier.verify_many(requests)
    return {e.scenario.removeprefix("okx:"): (e, o) for e, o in zip(cases, verified, strict=True)}


def _paths(outcome: VerificationOutcome) -> list[str]:
    return [a.request.split("?", 1)[0].removeprefix("GET /api/v5/") for a in outcome.answers]


def _order_wire(edge: ScenarioFile, expected: ExpectedVerdict) -> dict[str, Any]:
    return next(o.wire for o in edge.okx.orders if o.wire["ordId"] == expected.claim["order_id"])


def _replay(answers: list[RawAnswer], request: VerificationRequest) -> VerificationOutcome:
    transport = ReplayTransport("okx", answers)
    return fetch(OkxAdapter(REPLAY_CREDENTIALS, transport, clock=transport.clock), request)


def _edited(answers: list[RawAnswer], path: str, edit: Any) -> list[RawAnswer]:
    """The answers with ``edit(body_json)`` applied to the one for ``path``."""
    out = []
    for answer in answers:
        if answer.request.split("?", 1)[0] == f"GET {path}":
            body = json.loads(answer.body)
            edit(body)
            answer = answer.model_copy(update={"body": json.dumps(body).encode()})
        out.append(answer)
    return out


# ----------------------------------------------------------------------------------- every case, verdicts


OKX_CASES = [
    "live_20_days_fills_history",
    "live_2_days_trade_fills",
    "expired_futures_5_days_orders_history",
    "delisted_swap_40_days_archive",
    "unknown_order_10_days",
    "unknown_order_span_older_than_3_months",
    "delisted_not_in_any_history",
    "delisted_older_than_3_months",
    "inverse_settles_in_btc",
    "isolated_margin_liq_penalty",
    "cross_margin_penalty_in_pnl",
    "partial_then_full__partial",
    "partial_then_full__full",
]


def test_edge_cases__okx__one_claim_per_case(edge: ScenarioFile) -> None:
    assert sorted(e.scenario for e in edge.expected if e.scenario.startswith("okx:")) == sorted(
        f"okx:{name}" for name in OKX_CASES
    )


@pytest.mark.parametrize("case", OKX_CASES)
def test_verify__okx_edge_case__matches_generated_expectation(
    case: str, outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]], policy: PolicyParams
) -> None:
    expected, outcome = outcomes[case]
    assert observed_verdict(expected, policy, outcome) == wanted_verdict(expected)


# ------------------------------------------------------------------------------- retention-aware look-ups


def test_fetch_evidence__order_20_days_on_live_instrument__order_details_then_fills_history(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["live_20_days_fills_history"]
    assert _paths(outcome) == ["trade/order", "public/instruments", "trade/fills-history"]
    assert outcome.status is OutcomeStatus.VERIFIED


def test_fetch_evidence__order_2_days_old__fills_from_trade_fills(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    # Before: always fills-history (10 / 2 s); trade/fills (60 / 2 s) keeps the last 3 days.
    _, outcome = outcomes["live_2_days_trade_fills"]
    assert _paths(outcome) == ["trade/order", "public/instruments", "trade/fills"]
    assert outcome.evidence is not None and outcome.evidence.liquidation is LiquidationKind.FULL


def test_fetch_evidence__expired_futures_5_days__found_in_orders_history__approved(
    edge: ScenarioFile, outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]]
) -> None:
    # Before: trade/order's 51001 was a final ORDER_NOT_FOUND.
    expected, outcome = outcomes["expired_futures_5_days_orders_history"]
    assert _paths(outcome)[:2] == ["trade/order", "trade/orders-history"]
    assert json.loads(outcome.answers[0].body)["code"] == "51001"
    history_query = outcome.answers[1].request.split("?", 1)[1]
    assert history_query.startswith(f"instType=FUTURES&instId={sim_okx.EXPIRED_FUTURES}&begin=")
    assert outcome.evidence is not None
    # public/instruments lists live instruments only: the order's feeCcy stands in for settleCcy.
    assert json.loads(outcome.answers[2].body)["code"] == "51001"
    assert outcome.evidence.settlement_currency == _order_wire(edge, expected)["feeCcy"] == "USDT"
    assert outcome.evidence.settlement_source == "order_fee_ccy"


def test_fetch_evidence__delisted_swap_40_days__found_in_archive__approved(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["delisted_swap_40_days_archive"]
    # The 7-day history cannot hold a span that ended 40 days ago: only the archive is asked.
    assert _paths(outcome)[:2] == ["trade/order", "trade/orders-history-archive"]
    assert outcome.status is OutcomeStatus.VERIFIED


def test_fetch_evidence__unknown_order_inside_retention__order_not_found_after_history(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["unknown_order_10_days"]
    assert _paths(outcome) == ["trade/order", "trade/orders-history-archive"]
    assert (outcome.status, outcome.reason_code, outcome.disposition) == (
        OutcomeStatus.REJECTED,
        ReasonCode.ORDER_NOT_FOUND,
        Disposition.REJECT,
    )


def test_fetch_evidence__unknown_order_span_older_than_3_months__manual_review_aged_out(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    # Before: 51603 was ORDER_NOT_FOUND whatever the age: a late claim was rejected on missing history.
    _, outcome = outcomes["unknown_order_span_older_than_3_months"]
    assert _paths(outcome) == ["trade/order"]
    assert (outcome.status, outcome.review_cause) == (OutcomeStatus.NEEDS_REVIEW, ReviewCause.AGED_OUT)


def test_fetch_evidence__delisted_instrument_not_in_any_history__manual_review_instrument_not_live(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["delisted_not_in_any_history"]
    assert _paths(outcome) == ["trade/order", "trade/orders-history-archive"]
    assert (outcome.status, outcome.review_cause) == (
        OutcomeStatus.NEEDS_REVIEW,
        ReviewCause.INSTRUMENT_NOT_LIVE,
    )


def test_fetch_evidence__delisted_instrument_older_than_3_months__manual_review_aged_out(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["delisted_older_than_3_months"]
    assert (outcome.status, outcome.review_cause) == (OutcomeStatus.NEEDS_REVIEW, ReviewCause.AGED_OUT)


def test_fetch_evidence__span_straddles_7_days__orders_history_then_archive(
    verifier: Verifier, outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]], policy: PolicyParams
) -> None:
    # The 7-day history holds the span's end, not its start: its absence proves nothing; the archive's does.
    expected, _ = outcomes["unknown_order_10_days"]
    claim = ClaimInput.model_validate({**expected.claim, "submitted_at": NOW - 3 * 86_400})
    outcome = verifier.verify(VerificationRequest.for_claim(claim, policy.claim_window_seconds))
    assert _paths(outcome) == ["trade/order", "trade/orders-history", "trade/orders-history-archive"]
    assert outcome.reason_code is ReasonCode.ORDER_NOT_FOUND


def test_fetch_evidence__span_inside_7_days__orders_history_alone_proves_absence(
    verifier: Verifier, outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]]
) -> None:
    expected, _ = outcomes["unknown_order_10_days"]
    claim = ClaimInput.model_validate({**expected.claim, "submitted_at": NOW - 600})
    outcome = verifier.verify(VerificationRequest.for_claim(claim, 3 * 86_400))
    assert _paths(outcome) == ["trade/order", "trade/orders-history"]
    assert outcome.reason_code is ReasonCode.ORDER_NOT_FOUND


def test_fetch_evidence__order_on_second_history_page__pages_with_after(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["expired_futures_5_days_orders_history"]
    history = outcome.answers[1]
    assert history.request.startswith("GET /api/v5/trade/orders-history?")
    row = json.loads(history.body)["data"][0]
    others = [{**row, "ordId": str(int(row["ordId"]) + 1000 - i)} for i in range(100)]
    first = history.model_copy(update={"body": json.dumps({"code": "0", "msg": "", "data": others}).encode()})
    second = history.model_copy(
        update={"request": f"{history.request}&after={others[-1]['ordId']}", "body": history.body}
    )
    answers = [outcome.answers[0], first, second, *outcome.answers[2:]]
    replayed = _replay(answers, outcome.request)
    assert replayed.evidence == outcome.evidence
    assert [a.request for a in replayed.answers][1:3] == [first.request, second.request]


# ------------------------------------------------------------------------ settlement currency and penalties


def test_fetch_evidence__inverse_swap__settles_in_btc__unsupported_settlement_with_evidence(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]], policy: PolicyParams
) -> None:
    # Before: the settlement currency was never checked; a BTC loss was paid as stablecoin.
    expected, outcome = outcomes["inverse_settles_in_btc"]
    assert outcome.evidence is not None
    assert (outcome.evidence.settlement_currency, outcome.evidence.fee_currency) == ("BTC", "BTC")
    assert outcome.evidence.settlement_source == "instrument"
    instrument = json.loads(outcome.answers[1].body)["data"][0]
    assert (instrument["ctType"], instrument["settleCcy"]) == ("inverse", "BTC")
    decision = decision_for(ClaimInput.model_validate(expected.claim), policy, outcome)
    assert isinstance(decision, Decision)
    assert (decision.reason_code, decision.payout) == (ReasonCode.UNSUPPORTED_SETTLEMENT, 0)


def test_fetch_evidence__isolated_liquidation__penalty_from_positions_history(
    edge: ScenarioFile, outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]]
) -> None:
    # Before: the OKX penalty was fixed at 0, under-counting isolated-margin liquidations.
    expected, outcome = outcomes["isolated_margin_liq_penalty"]
    order = _order_wire(edge, expected)
    position = next(p.wire for p in edge.okx.positions if p.wire["instId"] == order["instId"])
    evidence = outcome.evidence
    assert evidence is not None
    assert _paths(outcome)[-1] == "account/positions-history"
    penalty = Decimal(position["liqPenalty"])
    assert penalty < 0
    assert (evidence.margin_mode, evidence.liquidation_penalty, evidence.penalty_currency) == (
        "isolated",
        penalty,
        "USDT",
    )
    assert evidence.loss == -(Decimal(order["pnl"]) + Decimal(order["fee"]) + penalty)


def test_fetch_evidence__cross_liquidation_with_position_penalty__penalty_not_added_again(
    edge: ScenarioFile, outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]]
) -> None:
    expected, outcome = outcomes["cross_margin_penalty_in_pnl"]
    order = _order_wire(edge, expected)
    assert any(
        p.wire["mgnMode"] == "cross"
        and Decimal(p.wire["liqPenalty"]) < 0
        and p.wire["instId"] == order["instId"]
        for p in edge.okx.positions
    )
    evidence = outcome.evidence
    assert evidence is not None
    assert "account/positions-history" not in _paths(outcome)
    assert (evidence.margin_mode, evidence.liquidation_penalty) == ("cross", Decimal(0))
    assert evidence.loss == -(Decimal(order["pnl"]) + Decimal(order["fee"]))


def test_fetch_evidence__isolated_two_matching_position_rows__manual_review_unmatched_penalty(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["isolated_margin_liq_penalty"]
    doubled = _edited(
        outcome.answers,
        "/api/v5/account/positions-history",
        lambda body: body["data"].append({**body["data"][0], "posId": "1"}),
    )
    replayed = _replay(doubled, outcome.request)
    assert (replayed.status, replayed.review_cause) == (
        OutcomeStatus.NEEDS_REVIEW,
        ReviewCause.UNMATCHED_PENALTY,
    )


def test_fetch_evidence__isolated_no_position_row__manual_review_unmatched_penalty(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["isolated_margin_liq_penalty"]
    emptied = _edited(outcome.answers, "/api/v5/account/positions-history", lambda body: body["data"].clear())
    replayed = _replay(emptied, outcome.request)
    assert replayed.review_cause is ReviewCause.UNMATCHED_PENALTY


def test_fetch_evidence__fill_fee_currency_differs_from_order__inconsistent_evidence(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["live_20_days_fills_history"]

    def bnb(body: dict[str, Any]) -> None:
        body["data"][0]["feeCcy"] = "OKB"

    replayed = _replay(_edited(outcome.answers, "/api/v5/trade/fills-history", bnb), outcome.request)
    assert (replayed.status, replayed.error, replayed.review_cause) == (
        OutcomeStatus.NEEDS_REVIEW,
        "inconsistent_evidence",
        ReviewCause.INCONSISTENT_EVIDENCE,
    )


def test_fetch_evidence__fill_fees_do_not_add_up_to_order_fee__inconsistent_evidence(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["live_20_days_fills_history"]

    def extra_fee(body: dict[str, Any]) -> None:
        body["data"][0]["fee"] = str(Decimal(body["data"][0]["fee"]) - Decimal("0.0001"))

    replayed = _replay(_edited(outcome.answers, "/api/v5/trade/fills-history", extra_fee), outcome.request)
    assert replayed.review_cause is ReviewCause.INCONSISTENT_EVIDENCE
    assert "fill fees add up to" in replayed.detail


def test_fetch_evidence__liquidation_time__from_fill_time_not_record_ts(
    edge: ScenarioFile, outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]]
) -> None:
    # Before: the latest fill's ts (record generation time) was taken as the liquidation time.
    expected, outcome = outcomes["live_20_days_fills_history"]
    fills = [f.wire for f in edge.okx.fills if f.wire["ordId"] == expected.claim["order_id"]]
    assert outcome.evidence is not None
    assert outcome.evidence.liquidation_time_ms == max(int(f["fillTime"]) for f in fills)
    assert all(int(f["ts"]) > int(f["fillTime"]) for f in fills)


def test_fetch_evidence__partial_then_full_same_instrument__both_verified_as_their_own_claims(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]], policy: PolicyParams
) -> None:
    partial_expected, partial = outcomes["partial_then_full__partial"]
    full_expected, full = outcomes["partial_then_full__full"]
    assert partial_expected.claim["instrument"] == full_expected.claim["instrument"]
    assert partial_expected.claim["order_id"] != full_expected.claim["order_id"]
    assert partial.evidence is not None and full.evidence is not None
    assert (partial.evidence.liquidation, full.evidence.liquidation) == (
        LiquidationKind.PARTIAL,
        LiquidationKind.FULL,
    )
    assert partial.evidence.liquidation_time_ms < full.evidence.liquidation_time_ms
    for expected, outcome in ((partial_expected, partial), (full_expected, full)):
        decision = decision_for(ClaimInput.model_validate(expected.claim), policy, outcome)
        assert isinstance(decision, Decision)
        assert (decision.reason_code, decision.payout) == (ReasonCode.APPROVED, expected.payout)


# --------------------------------------------------------------------------------------- error codes


def _one_answer(request: VerificationRequest, body: dict[str, Any], status: int) -> VerificationOutcome:
    query = urlencode([("instId", request.instrument), ("ordId", request.order_id)])
    answer = RawAnswer(
        request=f"GET /api/v5/trade/order?{query}",
        status=status,
        body=json.dumps(body).encode(),
        observed_at_ms=NOW * 1000,
    )
    return _replay([answer], request)


def test_fetch_evidence__api_frozen_50100__alert_not_manual_review(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    # Before: 50100 was an unknown code, so a malformed response for a person to review.
    _, outcome = outcomes["live_20_days_fills_history"]
    frozen = _one_answer(
        outcome.request, {"code": "50100", "msg": "API frozen, please contact customer service."}, 400
    )
    assert (frozen.status, frozen.error, frozen.disposition) == (
        OutcomeStatus.DEFERRED,
        "authentication",
        Disposition.ALERT,
    )


def test_fetch_evidence__timestamp_expired_50102__clock_skew_deferred(
    outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]],
) -> None:
    _, outcome = outcomes["live_20_days_fills_history"]
    stale = _one_answer(outcome.request, {"code": "50102", "msg": "Timestamp request expired"}, 401)
    assert (stale.status, stale.error, stale.disposition) == (
        OutcomeStatus.DEFERRED,
        "clock_skew",
        Disposition.DEFER,
    )


@pytest.mark.parametrize(
    ("instrument", "inst_type"),
    [
        ("BTC-USDT-SWAP", "SWAP"),
        ("BTC-USD-SWAP", "SWAP"),
        ("BTC-USD-240927", "FUTURES"),
        ("BTC-USD-240927-60000-C", "OPTION"),
        ("BTC-USDT", "MARGIN"),
    ],
)
def test_inst_type_of__instrument_id__documented_inst_type(instrument: str, inst_type: str) -> None:
    assert inst_type_of(instrument) == inst_type


# ----------------------------------------------------------------------------------------------- replay


@pytest.mark.parametrize("case", OKX_CASES)
def test_replay__recorded_answers__same_outcome_without_network(
    case: str, outcomes: dict[str, tuple[ExpectedVerdict, VerificationOutcome]]
) -> None:
    _, outcome = outcomes[case]
    transport = ReplayTransport("okx", outcome.answers)
    replayed = fetch(OkxAdapter(REPLAY_CREDENTIALS, transport, clock=transport.clock), outcome.request)
    assert replayed.evidence == outcome.evidence
    assert (replayed.status, replayed.reason_code, replayed.review_cause) == (
        outcome.status,
        outcome.reason_code,
        outcome.review_cause,
    )
    assert [a.digest() for a in replayed.answers] == [a.digest() for a in outcome.answers]
    assert transport.unused() == []


# ------------------------------------------------------------------------- the simulator's documented limits


def _signed_headers(account: SimAccount, path_and_query: str) -> dict[str, str]:
    from datetime import UTC, datetime

    stamp = okx_timestamp(datetime.now(UTC))
    assert account.passphrase is not None
    return {
        "OK-ACCESS-KEY": account.api_key,
        "OK-ACCESS-SIGN": okx_signature(stamp, "GET", path_and_query, "", account.secret),
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": account.passphrase,
    }


def _state(edge: ScenarioFile, limits: SimLimits | None = None) -> ExchangeState:
    return ExchangeState(edge, limits or SimLimits(), time.time)


def _owner_of(edge: ScenarioFile, wire: dict[str, Any]) -> SimAccount:
    owner = next(o.owner for o in edge.okx.orders if o.wire is wire or o.wire["ordId"] == wire["ordId"])
    return next(a for a in edge.accounts if a.api_key == owner)


def _sim_get(state: ExchangeState, account: SimAccount | None, path: str, **params: str) -> tuple[int, Any]:
    target = f"{path}?{urlencode(params)}"
    reply = sim_okx.handle_okx(state, target, _signed_headers(account, target) if account else {})
    return reply.status, reply.body


def test_sim__trade_order_on_delisted_instrument__51001(edge: ScenarioFile) -> None:
    expected = next(e for e in edge.expected if e.scenario == "okx:delisted_swap_40_days_archive")
    order = _order_wire(edge, expected)
    status, body = _sim_get(
        _state(edge),
        _owner_of(edge, order),
        "/api/v5/trade/order",
        instId=order["instId"],
        ordId=order["ordId"],
    )
    assert (status, body["code"], body["data"]) == (200, "51001", [])


def test_sim__orders_history_keeps_7_days__archive_3_months(edge: ScenarioFile) -> None:
    expected = next(e for e in edge.expected if e.scenario == "okx:delisted_swap_40_days_archive")
    order = _order_wire(edge, expected)
    owner = _owner_of(edge, order)
    state = _state(edge)
    query = {"instType": "SWAP", "instId": order["instId"]}
    _, recent = _sim_get(state, owner, "/api/v5/trade/orders-history", **query)
    _, archive = _sim_get(state, owner, "/api/v5/trade/orders-history-archive", **query)
    assert [o["ordId"] for o in recent["data"]] == []
    assert [o["ordId"] for o in archive["data"]] == [order["ordId"]]


def test_sim__orders_history_without_inst_type__50014(edge: ScenarioFile) -> None:
    owner = next(a for a in edge.accounts if a.exchange == "okx")
    status, body = _sim_get(_state(edge), owner, "/api/v5/trade/orders-history", instId="BTC-USDT-SWAP")
    assert (status, body["code"]) == (400, "50014")


def test_sim__trade_fills_keeps_3_days__fills_history_3_months(edge: ScenarioFile) -> None:
    expected = next(e for e in edge.expected if e.scenario == "okx:live_20_days_fills_history")
    order = _order_wire(edge, expected)
    owner = _owner_of(edge, order)
    state = _state(edge)
    query = {"instType": "SWAP", "instId": order["instId"], "ordId": order["ordId"]}
    _, recent = _sim_get(state, owner, "/api/v5/trade/fills", **query)
    _, history = _sim_get(state, owner, "/api/v5/trade/fills-history", **query)
    assert recent["data"] == []
    assert {f["ordId"] for f in history["data"]} == {order["ordId"]}


def test_sim__public_instruments__unsigned_and_live_only(edge: ScenarioFile) -> None:
    state = _state(edge)
    status, inverse = _sim_get(
        state, None, "/api/v5/public/instruments", instType="SWAP", instId="BTC-USD-SWAP"
    )
    assert (status, inverse["data"][0]["ctType"], inverse["data"][0]["settleCcy"]) == (200, "inverse", "BTC")
    _, delisted = _sim_get(
        state, None, "/api/v5/public/instruments", instType="SWAP", instId=sim_okx.DELISTED_SWAP
    )
    assert (delisted["code"], delisted["data"]) == ("51001", [])


def test_sim__positions_history_limit__per_user_10_per_2s(edge: ScenarioFile) -> None:
    owner = next(a for a in edge.accounts if a.exchange == "okx")
    state = _state(edge)
    codes = [
        _sim_get(state, owner, "/api/v5/account/positions-history", instType="SWAP")[1]["code"]
        for _ in range(11)
    ]
    assert codes == ["0"] * 10 + ["50011"]


def test_sim__limits__counted_per_user_not_per_api_key(edge: ScenarioFile) -> None:
    owner = next(a for a in edge.accounts if a.exchange == "okx")
    second_key = owner.model_copy(update={"api_key": owner.api_key + "2"})
    shared = edge.model_copy(update={"accounts": [*edge.accounts, second_key]})
    state = _state(shared)
    for _ in range(10):
        assert _sim_get(state, owner, "/api/v5/account/positions-history", instType="SWAP")[1]["code"] == "0"
    # The same user's second key shares the user's budget.
    assert (
        _sim_get(state, second_key, "/api/v5/account/positions-history", instType="SWAP")[1]["code"]
        == "50011"
    )


def test_sim__order_older_than_3_months__gone_from_order_details(edge: ScenarioFile, tmp_path: Path) -> None:
    expected = next(e for e in edge.expected if e.scenario == "okx:live_20_days_fills_history")
    order = _order_wire(edge, expected)
    later = ExchangeState(edge, SimLimits(), lambda: time.time() + 80 * 86_400)
    target = f"/api/v5/trade/order?{urlencode({'instId': order['instId'], 'ordId': order['ordId']})}"
    # Signed for the later clock: the simulator checks the 30 s window against its own time.
    from datetime import UTC, datetime

    owner = _owner_of(edge, order)
    stamp = okx_timestamp(datetime.fromtimestamp(later.clock(), UTC))
    assert owner.passphrase is not None
    headers = {
        "OK-ACCESS-KEY": owner.api_key,
        "OK-ACCESS-SIGN": okx_signature(stamp, "GET", target, "", owner.secret),
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": owner.passphrase,
    }
    assert sim_okx.handle_okx(later, target, headers).body["code"] == "51603"
