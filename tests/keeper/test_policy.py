"""The pure payout policy: every reason code, the payout caps, exact decimals, and the evidence hash."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from support.factories import LIQUIDATED_AT_MS, claim, evidence, policy

from keeper.evidence import LiquidationKind, ReviewCause
from keeper.interface import Exchange, ReasonCode
from keeper.policy import (
    Decision,
    Review,
    ReviewNeeded,
    canonical_json,
    canonical_record,
    decide,
    decide_by_person,
    hash_record,
    judge,
    reject_without_evidence,
)


def test_decide__covered_full_liquidation__pays_loss_times_ratio() -> None:
    # loss = 400 + 1.5 = 401.5; x 0.8 = 321.2 -> 321_200_000 units (below claimed 500 and remaining 900)
    decision = decide(claim(), policy(), evidence())
    assert (decision.approved, decision.payout, decision.reason_code) == (
        True,
        321_200_000,
        ReasonCode.APPROVED,
    )


def test_decide__partial_liquidation__is_covered_like_full() -> None:
    decision = decide(claim(), policy(), evidence(liquidation=LiquidationKind.PARTIAL))
    assert (decision.reason_code, decision.payout) == (ReasonCode.APPROVED, 321_200_000)


def test_decide__penalty__adds_to_loss() -> None:
    decision = decide(claim(), policy(), evidence(realized_pnl="-100", fees="-0.5", penalty="-9.5"))
    assert decision.payout == 88_000_000


def test_decide__fraction_below_one_unit__rounds_down() -> None:
    # 0.0000019 x 0.8 = 0.00000152 -> 1 unit (ROUND_DOWN, not to nearest)
    decision = decide(claim(), policy(), evidence(realized_pnl="-0.0000019", fees="0"))
    assert decision.payout == 1


def test_decide__loss_so_small_it_rounds_to_zero__zero_payout() -> None:
    decision = decide(claim(), policy(), evidence(realized_pnl="-0.000001", fees="0"))
    assert (decision.approved, decision.payout, decision.reason_code) == (False, 0, ReasonCode.ZERO_PAYOUT)


@pytest.mark.parametrize(
    ("claim_overrides", "policy_overrides", "expected"),
    [
        ({"claimed_loss": 100_000_000}, {}, 100_000_000),
        ({"remaining_coverage": 50_000_000}, {}, 50_000_000),
        ({}, {"max_payout_per_claim": 20_000_000}, 20_000_000),
        ({}, {"coverage_ratio": Decimal("1")}, 401_500_000),
        (
            {"claimed_loss": 10**24, "remaining_coverage": 10**24},
            {"token_decimals": 18, "max_payout_per_claim": 10**24},
            321_200_000_000_000_000_000,
        ),
        ({}, {"token_decimals": 2}, 32_120),
    ],
)
def test_decide__each_cap_and_decimals__bounds_payout(
    claim_overrides: dict[str, int], policy_overrides: dict[str, object], expected: int
) -> None:
    decision = decide(claim(**claim_overrides), policy(**policy_overrides), evidence())
    assert decision.payout == expected


@pytest.mark.parametrize(
    ("claim_overrides", "evidence_overrides", "expected"),
    [
        ({}, {"liquidation": LiquidationKind.NONE}, ReasonCode.NOT_LIQUIDATED),
        ({}, {"liquidation": LiquidationKind.ADL}, ReasonCode.ADL_NOT_COVERED),
        ({"exchange": Exchange.BINANCE}, {}, ReasonCode.ACCOUNT_MISMATCH),
        ({}, {"order_id": "999"}, ReasonCode.ACCOUNT_MISMATCH),
        ({"instrument": "ETH-USDT-SWAP"}, {}, ReasonCode.INSTRUMENT_MISMATCH),
        ({"coverage_end": LIQUIDATED_AT_MS // 1000}, {}, ReasonCode.OUTSIDE_COVERAGE),
        ({"coverage_start": LIQUIDATED_AT_MS // 1000 + 1}, {}, ReasonCode.OUTSIDE_COVERAGE),
        ({"submitted_at": LIQUIDATED_AT_MS // 1000 + 3601}, {}, ReasonCode.CLAIM_WINDOW_EXPIRED),
        ({"submitted_at": LIQUIDATED_AT_MS // 1000}, {}, ReasonCode.CLAIM_WINDOW_EXPIRED),
        ({"remaining_coverage": 0}, {}, ReasonCode.ZERO_PAYOUT),
        ({"claimed_loss": 0}, {}, ReasonCode.ZERO_PAYOUT),
    ],
)
def test_decide__disqualifying_fact__rejects_with_reason(
    claim_overrides: dict[str, Any], evidence_overrides: dict[str, Any], expected: ReasonCode
) -> None:
    decision = decide(claim(**claim_overrides), policy(), evidence(**evidence_overrides))
    assert (decision.approved, decision.payout, decision.reason_code) == (False, 0, expected)


def test_decide__profit_after_fees__no_loss() -> None:
    decision = decide(claim(), policy(), evidence(realized_pnl="3", fees="-2"))
    assert (decision.approved, decision.payout, decision.reason_code) == (False, 0, ReasonCode.NO_LOSS)


def test_decide__adl_with_cover_adl__approved() -> None:
    decision = decide(claim(), policy(cover_adl=True), evidence(liquidation=LiquidationKind.ADL))
    assert (decision.reason_code, decision.payout) == (ReasonCode.APPROVED, 321_200_000)


def test_decide__claim_exactly_at_window_end__approved() -> None:
    # liquidation at x.500 s; window 3600 s -> the last accepted second is x + 3600 (x.5 + 3600 > x + 3600)
    decision = decide(claim(submitted_at=LIQUIDATED_AT_MS // 1000 + 3600), policy(), evidence())
    assert decision.reason_code == ReasonCode.APPROVED


def test_reject_without_evidence__not_found__hash_commits_to_null_evidence() -> None:
    c, p = claim(), policy()
    decision = reject_without_evidence(c, p, ReasonCode.ORDER_NOT_FOUND)
    record = canonical_record(c, None, False, 0, ReasonCode.ORDER_NOT_FOUND, "test-1")
    assert record["evidence"] is None
    assert (decision.payout, decision.evidence_hash) == (0, hash_record(record))


def test_reject_without_evidence__approved_reason__raises_value_error() -> None:
    with pytest.raises(ValueError, match="APPROVED"):
        reject_without_evidence(claim(), policy(), ReasonCode.APPROVED)


def test_decision__approved_with_zero_payout__is_invalid() -> None:
    with pytest.raises(ValidationError, match="contradicts payout"):
        Decision(approved=True, payout=0, reason_code=ReasonCode.APPROVED, evidence_hash="0x" + "0" * 64)


def test_evidence_hash__recomputed_from_stored_json__matches() -> None:
    c, p, e = claim(), policy(), evidence()
    decision = decide(c, p, e)
    record = canonical_record(
        c, e, decision.approved, decision.payout, decision.reason_code, p.policy_version
    )
    stored = json.loads(json.dumps(record))  # what an audit log reads back
    expected = "0x" + keccak(json.dumps(stored, sort_keys=True, separators=(",", ":")).encode()).hex()
    assert decision.evidence_hash == expected == hash_record(stored)


def test_canonical_json__decimals__are_strings_with_sorted_keys() -> None:
    record = canonical_record(claim(), evidence(), True, 321_200_000, ReasonCode.APPROVED, "test-1")
    text = canonical_json(record).decode()
    assert '"loss":"401.5"' in text
    assert '"realized_pnl":"-400"' in text
    assert text.startswith('{"answers":[],"claim":{"account_ref":')
    assert text.endswith('"policy_version":"test-1"}')


def test_canonical_json__float_value__raises_type_error() -> None:
    with pytest.raises(TypeError, match="float"):
        canonical_json({"a": [1, {"b": 0.1}]})


def test_evidence_hash__policy_version_changes__hash_changes() -> None:
    a = decide(claim(), policy(policy_version="v1"), evidence())
    b = decide(claim(), policy(policy_version="v2"), evidence())
    assert a.evidence_hash != b.evidence_hash


# ------------------------------------------------------------------------------------------ properties

losses = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("10000000"), places=6)
units = st.integers(min_value=0, max_value=10**13)
ratios = st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=4)


@given(loss=losses, claimed=units, remaining=units, cap=units, ratio=ratios, decimals=st.integers(0, 18))
def test_decide__any_inputs__payout_within_every_cap_and_zero_iff_rejected(
    loss: Decimal, claimed: int, remaining: int, cap: int, ratio: Decimal, decimals: int
) -> None:
    p = policy(coverage_ratio=ratio, max_payout_per_claim=cap, token_decimals=decimals)
    decision = decide(
        claim(claimed_loss=claimed, remaining_coverage=remaining),
        p,
        evidence(realized_pnl=str(-loss), fees="0"),
    )
    assert decision.payout <= min(claimed, remaining, cap)
    assert decision.payout <= loss * ratio * Decimal(10) ** decimals
    assert (decision.payout == 0) == (not decision.approved)
    assert decision.approved == (decision.reason_code == ReasonCode.APPROVED)


@given(a=losses, b=losses, claimed=units, remaining=units, cap=units, ratio=ratios)
def test_decide__larger_loss__never_pays_less(
    a: Decimal, b: Decimal, claimed: int, remaining: int, cap: int, ratio: Decimal
) -> None:
    small, large = sorted((a, b))
    p = policy(coverage_ratio=ratio, max_payout_per_claim=cap)
    c = claim(claimed_loss=claimed, remaining_coverage=remaining)
    low = decide(c, p, evidence(realized_pnl=str(-small), fees="0"))
    high = decide(c, p, evidence(realized_pnl=str(-large), fees="0"))
    assert low.payout <= high.payout


@given(kind=st.sampled_from(list(LiquidationKind)), cover_adl=st.booleans(), loss=losses)
def test_decide__any_kind__only_forced_liquidations_or_covered_adl_pay(
    kind: LiquidationKind, cover_adl: bool, loss: Decimal
) -> None:
    decision = decide(
        claim(), policy(cover_adl=cover_adl), evidence(realized_pnl=str(-loss), fees="0", liquidation=kind)
    )
    payable = kind.is_forced_liquidation or (kind is LiquidationKind.ADL and cover_adl)
    if not payable:
        assert decision.payout == 0
    assert decision.reason_code != ReasonCode.GUARDIAN_VETO


def test_decide__amounts_beyond_28_digits__computed_exactly() -> None:
    # 26 significant digits x 0.7777 needs 30; the default 28-digit context rounds the product up across an
    # integer boundary and would overpay one unit (...651 instead of ...650).
    p = policy(coverage_ratio=Decimal("0.7777"), token_decimals=18, max_payout_per_claim=10**40)
    c = claim(claimed_loss=10**40, remaining_coverage=10**40)
    decision = decide(c, p, evidence(realized_pnl="-12345678.386410848157382861", fees="0"))
    assert decision.payout == 9601234081111716611996650


# --- issue 12: settlement currency, a person's decision, the answers the hash commits to

ANSWER = {
    "request": "GET /api/v5/trade/order?instId=BTC-USDT-SWAP&ordId=123456",
    "status": 200,
    "observed_at_ms": LIQUIDATED_AT_MS + 60_000,
    "sha256": "ab" * 32,
}


def test_judge__loss_settled_in_a_coin__rejected_unsupported_settlement() -> None:
    # An inverse contract settles in BTC: 401.5 BTC must not be paid as 401.5 USDT.
    verdict = judge(
        claim(), policy(), evidence(settlement_currency="BTC", fee_currency="BTC", penalty_currency="BTC")
    )
    assert isinstance(verdict, Decision)
    assert (verdict.approved, verdict.payout, verdict.reason_code) == (
        False,
        0,
        ReasonCode.UNSUPPORTED_SETTLEMENT,
    )


def test_judge__usdc_loss_in_a_usdt_and_usdc_pool__approved() -> None:
    verdict = judge(
        claim(), policy(), evidence(settlement_currency="USDC", fee_currency="USDC", penalty_currency="USDC")
    )
    assert isinstance(verdict, Decision) and verdict.payout == 321_200_000


def test_judge__settlement_outside_a_narrowed_allow_list__rejected() -> None:
    narrowed = policy(settlement_currencies=frozenset({"USDC"}))
    verdict = judge(claim(), narrowed, evidence())
    assert isinstance(verdict, Decision) and verdict.reason_code is ReasonCode.UNSUPPORTED_SETTLEMENT


def test_judge__fee_in_bnb__needs_a_person_not_a_verdict() -> None:
    verdict = judge(claim(), policy(), evidence(fee_currency="BNB"))
    assert isinstance(verdict, ReviewNeeded)
    assert verdict.cause is ReviewCause.FEE_CURRENCY and "BNB" in verdict.detail


def test_judge__fee_in_bnb_on_a_claim_rejected_anyway__rejected_without_a_person() -> None:
    # Nothing to convert when the claim fails for another reason: no review is needed.
    verdict = judge(claim(), policy(), evidence(fee_currency="BNB", liquidation=LiquidationKind.NONE))
    assert isinstance(verdict, Decision) and verdict.reason_code is ReasonCode.NOT_LIQUIDATED


def test_decide__fee_in_bnb__raises_value_error_naming_the_cause() -> None:
    with pytest.raises(ValueError, match="fee_currency"):
        decide(claim(), policy(), evidence(fee_currency="BNB"))


def test_evidence_hash__commits_to_the_answers_read() -> None:
    c, p, e = claim(), policy(), evidence()
    with_answer = decide(c, p, e, [ANSWER])
    changed = decide(c, p, e, [{**ANSWER, "sha256": "cd" * 32}])
    assert len({with_answer.evidence_hash, changed.evidence_hash, decide(c, p, e).evidence_hash}) == 3
    record = canonical_record(c, e, True, with_answer.payout, ReasonCode.APPROVED, p.policy_version, [ANSWER])
    assert record["answers"] == [ANSWER] and hash_record(record) == with_answer.evidence_hash


REVIEW = Review(reviewer="alice", note="fills checked by phone with OKX support", cause=ReviewCause.AGED_OUT)


def test_decide_by_person__approval__capped_like_the_policy() -> None:
    c = claim()  # claimed 500 USDT, remaining 900 USDT
    decision = decide_by_person(c, policy(), None, REVIEW, approve_units=10**12)
    assert (decision.approved, decision.payout) == (True, c.claimed_loss)


def test_decide_by_person__approval_with_nothing_left__zero_payout_rejection() -> None:
    decision = decide_by_person(claim(remaining_coverage=0), policy(), None, REVIEW, approve_units=5)
    assert (decision.approved, decision.payout, decision.reason_code) == (False, 0, ReasonCode.ZERO_PAYOUT)


def test_decide_by_person__rejection__hash_commits_to_the_reviewer() -> None:
    c, p = claim(), policy()
    decision = decide_by_person(c, p, None, REVIEW, reject_reason=ReasonCode.ORDER_NOT_FOUND)
    record = canonical_record(c, None, False, 0, ReasonCode.ORDER_NOT_FOUND, p.policy_version, (), REVIEW)
    assert record["review"] == {"reviewer": "alice", "note": REVIEW.note, "cause": "aged_out"}
    assert decision.evidence_hash == hash_record(record)
    other = decide_by_person(
        c, p, None, REVIEW.model_copy(update={"reviewer": "bob"}), reject_reason=ReasonCode.ORDER_NOT_FOUND
    )
    assert other.evidence_hash != decision.evidence_hash


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one"),
        ({"approve_units": 1, "reject_reason": ReasonCode.NO_LOSS}, "exactly one"),
        ({"approve_units": 0}, "more than 0"),
        ({"reject_reason": ReasonCode.APPROVED}, "APPROVED"),
        ({"reject_reason": ReasonCode.GUARDIAN_VETO}, "GUARDIAN_VETO"),
    ],
)
def test_decide_by_person__inconsistent_request__raises_value_error(
    kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        decide_by_person(claim(), policy(), None, REVIEW, **kwargs)
