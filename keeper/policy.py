"""The payout policy: a pure function from (claim, policy, evidence) to a decision, plus the evidence hash.

Everything here is deterministic and free of I/O so that anyone holding the canonical record can
re-derive both the decision and its hash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Any

from eth_hash.auto import keccak
from pydantic import BaseModel, ConfigDict, Field, model_validator

from keeper.evidence import (
    EXACT,
    ClaimInput,
    LiquidationEvidence,
    LiquidationKind,
    ReviewCause,
    TokenUnits,
)
from keeper.exchanges.answers import answer_digests
from keeper.interface import ReasonCode
from keeper.verification import OutcomeStatus, VerificationOutcome

DEFAULT_SETTLEMENT_CURRENCIES = frozenset({"USDT", "USDC"})


class PolicyParams(BaseModel):
    """Parameters of one policy version; amounts in token units."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    coverage_ratio: Decimal = Field(ge=0, le=1)
    claim_window_seconds: int = Field(ge=0)
    cover_adl: bool = False
    max_payout_per_claim: TokenUnits
    token_decimals: int = Field(default=6, ge=0, le=36)
    policy_version: str = Field(min_length=1)
    settlement_currencies: frozenset[str] = Field(
        default=DEFAULT_SETTLEMENT_CURRENCIES,
        min_length=1,
        description="Assets whose losses the pool pays one for one (LG_SETTLEMENT_CURRENCIES).",
    )


class Decision(BaseModel):
    """The verdict posted on chain. A rejection pays 0; an approval pays more than 0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approved: bool
    payout: TokenUnits
    reason_code: ReasonCode
    evidence_hash: str = Field(pattern=r"^0x[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _approval_is_consistent(self) -> Decision:
        if self.approved != (self.reason_code == ReasonCode.APPROVED):
            raise ValueError(f"approved={self.approved} contradicts reason {self.reason_code.name}")
        if self.approved != (self.payout > 0):
            raise ValueError(f"approved={self.approved} contradicts payout {self.payout}")
        return self


class ReviewNeeded(BaseModel):
    """The policy cannot decide on this evidence alone: a person must (``keeper review``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cause: ReviewCause
    detail: str


class Review(BaseModel):
    """A person's decision on a claim in manual review, as the evidence record keeps it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reviewer: str = Field(min_length=1)
    note: str = Field(min_length=1)
    cause: ReviewCause
    """Why automation stopped."""


Answers = Sequence[Mapping[str, object]]
"""``RawAnswer.digest()`` of every exchange answer the verdict rests on, in the order they were read."""


def judge(
    claim: ClaimInput, policy: PolicyParams, evidence: LiquidationEvidence, answers: Answers = ()
) -> Decision | ReviewNeeded:
    """The verdict on a claim for which the exchange returned evidence, or why a person must decide it."""
    reason, payout = _verdict(claim, policy, evidence)
    if reason is ReasonCode.APPROVED:
        foreign = sorted(evidence.currencies - {evidence.settlement_currency})
        if foreign:
            return ReviewNeeded(
                cause=ReviewCause.FEE_CURRENCY,
                detail=f"loss in {evidence.settlement_currency}, fees or penalty in {', '.join(foreign)}"
                " with no exchange-reported price",
            )
    return _decision(claim, policy, evidence, reason, payout, answers)


def decide(
    claim: ClaimInput, policy: PolicyParams, evidence: LiquidationEvidence, answers: Answers = ()
) -> Decision:
    """``judge`` for evidence that needs no person; a ``ReviewNeeded`` raises ``ValueError``."""
    verdict = judge(claim, policy, evidence, answers)
    if isinstance(verdict, ReviewNeeded):
        raise ValueError(f"claim {claim.claim_id} needs a person: {verdict.cause.value}: {verdict.detail}")
    return verdict


def reject_without_evidence(
    claim: ClaimInput, policy: PolicyParams, reason: ReasonCode, answers: Answers = ()
) -> Decision:
    """Reject a claim whose order provably does not exist (``answers``: the exchange's not-found answers)."""
    if reason in (ReasonCode.APPROVED, ReasonCode.GUARDIAN_VETO):
        raise ValueError(f"{reason.name} is not a rejection the policy can make without evidence")
    return _decision(claim, policy, None, reason, 0, answers)


def decide_by_person(
    claim: ClaimInput,
    policy: PolicyParams,
    evidence: LiquidationEvidence | None,
    review: Review,
    *,
    approve_units: int | None = None,
    reject_reason: ReasonCode | None = None,
    answers: Answers = (),
) -> Decision:
    """A reviewer's verdict, through the same caps as the policy's: an approval pays at most the claimed loss,
    the remaining coverage and the per-claim cap (``ZERO_PAYOUT`` when they leave nothing)."""
    if (approve_units is None) == (reject_reason is None):
        raise ValueError("a review approves a payout or rejects with a reason, exactly one of them")
    if reject_reason is not None:
        if reject_reason in (ReasonCode.APPROVED, ReasonCode.GUARDIAN_VETO):
            raise ValueError(f"{reject_reason.name} is not a rejection a reviewer can make")
        return _decision(claim, policy, evidence, reject_reason, 0, answers, review)
    assert approve_units is not None
    if approve_units <= 0:
        raise ValueError(f"an approval pays more than 0, got {approve_units}")
    payout = min(approve_units, claim.claimed_loss, claim.remaining_coverage, policy.max_payout_per_claim)
    reason = ReasonCode.APPROVED if payout > 0 else ReasonCode.ZERO_PAYOUT
    return _decision(claim, policy, evidence, reason, payout, answers, review)


def payout_units(loss: Decimal, claim: ClaimInput, policy: PolicyParams) -> int:
    """min(loss x ratio, claimed, remaining coverage, per-claim cap), in token units, rounded down."""
    scale = Decimal(10) ** policy.token_decimals
    exact = EXACT.multiply(EXACT.multiply(loss, policy.coverage_ratio), scale)
    covered = exact.to_integral_value(rounding=ROUND_DOWN)
    return min(int(covered), claim.claimed_loss, claim.remaining_coverage, policy.max_payout_per_claim)


def _verdict(
    claim: ClaimInput, policy: PolicyParams, evidence: LiquidationEvidence
) -> tuple[ReasonCode, int]:
    if evidence.exchange != claim.exchange or evidence.order_id != claim.order_id:
        return ReasonCode.ACCOUNT_MISMATCH, 0
    if evidence.instrument.upper() != claim.instrument.upper():
        return ReasonCode.INSTRUMENT_MISMATCH, 0
    if evidence.liquidation is LiquidationKind.NONE:
        return ReasonCode.NOT_LIQUIDATED, 0
    if evidence.liquidation is LiquidationKind.ADL and not policy.cover_adl:
        return ReasonCode.ADL_NOT_COVERED, 0
    liquidated_at = EXACT.divide(Decimal(evidence.liquidation_time_ms), Decimal(1000))
    if not claim.coverage_start <= liquidated_at <= claim.coverage_end:
        return ReasonCode.OUTSIDE_COVERAGE, 0
    if not liquidated_at <= claim.submitted_at <= liquidated_at + policy.claim_window_seconds:
        return ReasonCode.CLAIM_WINDOW_EXPIRED, 0
    if evidence.settlement_currency.upper() not in policy.settlement_currencies:
        return ReasonCode.UNSUPPORTED_SETTLEMENT, 0
    if evidence.loss <= 0:
        return ReasonCode.NO_LOSS, 0
    payout = payout_units(evidence.loss, claim, policy)
    if payout <= 0:
        return ReasonCode.ZERO_PAYOUT, 0
    return ReasonCode.APPROVED, payout


def _decision(
    claim: ClaimInput,
    policy: PolicyParams,
    evidence: LiquidationEvidence | None,
    reason: ReasonCode,
    payout: int,
    answers: Answers = (),
    review: Review | None = None,
) -> Decision:
    approved = reason is ReasonCode.APPROVED
    record = canonical_record(
        claim, evidence, approved, payout, reason, policy.policy_version, answers, review
    )
    return Decision(approved=approved, payout=payout, reason_code=reason, evidence_hash=hash_record(record))


def record_of(
    claim: ClaimInput,
    evidence: LiquidationEvidence | None,
    decision: Decision,
    policy_version: str,
    answers: Answers = (),
    review: Review | None = None,
) -> dict[str, Any]:
    """The canonical record of a decision already made (its hash is the decision's ``evidence_hash`` when
    the inputs are the ones it was made on: what the audit log, the store and ``evidence check`` rebuild)."""
    return canonical_record(
        claim,
        evidence,
        decision.approved,
        decision.payout,
        decision.reason_code,
        policy_version,
        answers,
        review,
    )


def canonical_record(
    claim: ClaimInput,
    evidence: LiquidationEvidence | None,
    approved: bool,
    payout: int,
    reason_code: ReasonCode,
    policy_version: str,
    answers: Answers = (),
    review: Review | None = None,
) -> dict[str, Any]:
    """The JSON-ready record the evidence hash commits to (decimals as strings, enums as values): the claim,
    the evidence, the digest of every exchange answer read, the decision, the policy version and, for a
    person's decision, the review."""
    record: dict[str, Any] = {
        "claim": claim.model_dump(mode="json"),
        "evidence": None if evidence is None else evidence.model_dump(mode="json"),
        "answers": [dict(a) for a in answers],
        "decision": {"approved": approved, "payout": payout, "reason_code": int(reason_code)},
        "policy_version": policy_version,
    }
    if review is not None:
        record["review"] = review.model_dump(mode="json")
    return record


def canonical_json(record: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8; floats are refused because they do not round-trip exactly."""
    _reject_floats(record)
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def hash_record(record: Mapping[str, Any]) -> str:
    """keccak256 of the canonical JSON as 0x-hex; recomputable from a stored record."""
    return "0x" + keccak(canonical_json(record)).hex()


def _reject_floats(value: object) -> None:
    if isinstance(value, float):
        raise TypeError(f"float {value!r} in a canonical record; use a decimal string")
    if isinstance(value, Mapping):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_floats(item)


def decision_for(
    claim: ClaimInput, policy: PolicyParams, outcome: VerificationOutcome
) -> Decision | ReviewNeeded | None:
    """The verdict for a claim; ``ReviewNeeded`` when a person must decide it; None while it must stay
    pending (retried later). An unknown account is the keeper's configuration gap, never the trader's: it
    goes to a person."""
    digests = answer_digests(outcome.answers)
    if outcome.status is OutcomeStatus.VERIFIED and outcome.evidence is not None:
        return judge(claim, policy, outcome.evidence, digests)
    if outcome.status is OutcomeStatus.REJECTED and outcome.reason_code is ReasonCode.UNKNOWN_ACCOUNT:
        return ReviewNeeded(cause=ReviewCause.UNKNOWN_ACCOUNT, detail=outcome.detail)
    if outcome.status is OutcomeStatus.REJECTED and outcome.reason_code is not None:
        return reject_without_evidence(claim, policy, outcome.reason_code, digests)
    if outcome.status is OutcomeStatus.NEEDS_REVIEW and outcome.review_cause is not None:
        return ReviewNeeded(cause=outcome.review_cause, detail=outcome.detail)
    return None
