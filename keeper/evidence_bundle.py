"""Evidence bundles: everything needed to re-derive one verdict without the keeper, its credentials or the
exchange. Pure (no I/O): ``keeper evidence export/check`` and, later, the web console build on it.

A bundle holds the claim as judged, the effective policy, the exact bytes of every exchange answer the
verdict rests on, the decision, the canonical record and its evidence hash. ``check_bundle`` re-parses the
answers with the keeper's own adapters (replayed through ``ReplayTransport`` on the recorded clock), re-runs
the policy (or ``decide_by_person`` for a reviewed decision), recomputes the record and its hash, and reports
each step; the on-chain comparison (``chain_step``) takes the ``ClaimVerified`` hash the caller read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from keeper.evidence import ClaimInput, LiquidationEvidence
from keeper.exchanges.answers import AnswerNotRecordedError, RawAnswer, ReplayTransport, answer_digests
from keeper.exchanges.base import ExchangeAdapter, Transport
from keeper.exchanges.registry import ADAPTERS
from keeper.exchanges.verifier import fetch
from keeper.interface import Exchange, ReasonCode
from keeper.policy import (
    Decision,
    PolicyParams,
    Review,
    decide_by_person,
    decision_for,
    hash_record,
    record_of,
)
from keeper.settings import AccountCredentials
from keeper.verification import VerificationRequest

BUNDLE_FORMAT: Final = "leverageguard-evidence-bundle/1"

ReplayAdapterFactory = Callable[[AccountCredentials, Transport, Callable[[], datetime]], ExchangeAdapter]
REPLAY_ADAPTERS: dict[Exchange, ReplayAdapterFactory] = dict(ADAPTERS)
"""The adapter classes a replay builds: ``keeper.exchanges.registry.ADAPTERS`` (tests may add their own)."""


class BundleAnswer(BaseModel):
    """``RawAnswer.to_bundle()``: the body base64, byte for byte."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request: str
    status: int
    observed_at_ms: int = Field(ge=0)
    body_b64: str


class EvidenceBundle(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["leverageguard-evidence-bundle/1"] = "leverageguard-evidence-bundle/1"
    claim_id: int = Field(ge=0)
    claim: ClaimInput
    policy: PolicyParams
    answers: list[BundleAnswer]
    decision: Decision
    record: dict[str, Any]
    """The canonical record the evidence hash commits to."""
    evidence_hash: str = Field(pattern=r"^0x[0-9a-f]{64}$")

    def raw_answers(self) -> list[RawAnswer]:
        return [RawAnswer.from_bundle(a.model_dump()) for a in self.answers]


class CheckStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    step: str
    """bundle, answers, policy, replay, decision, record, hash, chain."""
    ok: bool
    detail: str


class CheckReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int | None
    steps: list[CheckStep]

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    @property
    def failed(self) -> list[str]:
        return [s.step for s in self.steps if not s.ok]


def build_bundle(
    claim_id: int,
    decision: Decision,
    record: Mapping[str, Any],
    answers: Sequence[RawAnswer],
    policy: PolicyParams,
) -> dict[str, Any]:
    """The JSON-ready bundle of one stored verdict (the claim is the one the record commits to)."""
    bundle = EvidenceBundle(
        claim_id=claim_id,
        claim=ClaimInput.model_validate(record["claim"]),
        policy=policy,
        answers=[BundleAnswer.model_validate(a.to_bundle()) for a in answers],
        decision=decision,
        record=dict(record),
        evidence_hash=decision.evidence_hash,
    )
    return bundle.model_dump(mode="json")


def replay_credentials(exchange: Exchange) -> AccountCredentials:
    """Placeholder credentials: a replay signs nothing that leaves the process."""
    dummy = SecretStr("replay")
    return AccountCredentials(exchange=exchange, api_key=dummy, secret=dummy, passphrase=dummy)


def check_bundle(data: Mapping[str, Any]) -> CheckReport:
    """Every step of re-deriving the bundle's verdict; the report is ok only when all of them agree."""
    steps: list[CheckStep] = []
    try:
        bundle = EvidenceBundle.model_validate(data)
        raw = bundle.raw_answers()
    except (ValidationError, ValueError, KeyError) as exc:
        claim_id = data.get("claim_id") if isinstance(data.get("claim_id"), int) else None
        return CheckReport(claim_id=claim_id, steps=[CheckStep(step="bundle", ok=False, detail=str(exc))])
    steps.append(CheckStep(step="bundle", ok=True, detail=f"{len(raw)} raw answers, claim {bundle.claim_id}"))
    steps.append(_answers_step(bundle, raw))
    steps.append(_policy_step(bundle))
    replayed, step = _replay(bundle, raw)
    steps.append(step)
    if replayed is not None:
        decision, record = replayed
        steps.append(_compare("decision", _verdict(decision), _verdict(bundle.decision)))
        steps.append(_compare("record", _differences(record, bundle.record), []))
        recomputed = hash_record(record)
        shipped = _hash_or_error(bundle.record)
        agree = recomputed == shipped == bundle.evidence_hash == bundle.decision.evidence_hash
        steps.append(
            CheckStep(
                step="hash",
                ok=agree,
                detail=f"re-derived {recomputed}, bundle's record {shipped}, bundle {bundle.evidence_hash},"
                f" decision {bundle.decision.evidence_hash}",
            )
        )
    return CheckReport(claim_id=bundle.claim_id, steps=steps)


def chain_step(evidence_hash: str, on_chain: Mapping[str, Any] | None) -> CheckStep:
    """The bundle's hash against the claim's latest ``ClaimVerified`` event (approved, payout, evidenceHash,
    reasonCode as read from the chain), None when the chain has no verdict for the claim."""
    if on_chain is None:
        return CheckStep(step="chain", ok=False, detail="no ClaimVerified event for this claim")
    chain_hash = str(on_chain["evidence_hash"]).lower()
    ok = chain_hash == evidence_hash.lower()
    return CheckStep(
        step="chain",
        ok=ok,
        detail=f"ClaimVerified evidenceHash {chain_hash} (approved={on_chain['approved']},"
        f" payout={on_chain['payout']}, reasonCode={on_chain['reason_code']})"
        + ("" if ok else f" != bundle {evidence_hash}"),
    )


def with_chain(report: CheckReport, step: CheckStep) -> CheckReport:
    return report.model_copy(update={"steps": [*report.steps, step]})


def _answers_step(bundle: EvidenceBundle, raw: Sequence[RawAnswer]) -> CheckStep:
    committed = bundle.record.get("answers")
    digests = answer_digests(raw)
    if committed == digests:
        return CheckStep(step="answers", ok=True, detail=f"{len(raw)} answers match the record's sha256")
    if not isinstance(committed, list) or len(committed) != len(digests):
        count = len(committed) if isinstance(committed, list) else committed
        return CheckStep(step="answers", ok=False, detail=f"record commits to {count}, bundle has {len(raw)}")
    bad = [i for i, (a, b) in enumerate(zip(committed, digests, strict=True)) if a != b]
    detail = "; ".join(f"answer {i} ({digests[i]['request']}): sha256 {digests[i]['sha256']}" for i in bad)
    return CheckStep(step="answers", ok=False, detail=f"differ from the record: {detail}")


def _policy_step(bundle: EvidenceBundle) -> CheckStep:
    problems = []
    if bundle.record.get("policy_version") != bundle.policy.policy_version:
        problems.append(
            f"policy {bundle.policy.policy_version!r} != record {bundle.record.get('policy_version')!r}"
        )
    if bundle.record.get("claim") != bundle.claim.model_dump(mode="json"):
        problems.append("the claim differs from the record's")
    if problems:
        return CheckStep(step="policy", ok=False, detail="; ".join(problems))
    return CheckStep(
        step="policy", ok=True, detail=f"policy {bundle.policy.policy_version}, claim as recorded"
    )


def _replay(
    bundle: EvidenceBundle, raw: Sequence[RawAnswer]
) -> tuple[tuple[Decision, dict[str, Any]] | None, CheckStep]:
    """Re-derives the decision and record from the raw answers alone."""
    claim, policy = bundle.claim, bundle.policy
    review_data = bundle.record.get("review")
    evidence: LiquidationEvidence | None = None
    digests = answer_digests(raw)
    detail = "no exchange answers"
    try:
        if raw:
            outcome, transport = _fetch_again(claim, policy, raw)
            digests = answer_digests(outcome.answers)
            evidence = outcome.evidence
            left = transport.unused()
            if left:
                return None, CheckStep(
                    step="replay", ok=False, detail=f"{len(left)} answers the adapter never asked for"
                )
            detail = f"{len(outcome.answers)} answers re-parsed: {outcome.status.value}"
        if review_data is not None:
            review = Review.model_validate(review_data)
            person = bundle.decision
            decision = decide_by_person(
                claim,
                policy,
                evidence,
                review,
                approve_units=person.payout if person.approved else None,
                reject_reason=None if person.approved else ReasonCode(person.reason_code),
                answers=digests,
            )
            detail += f"; decided by {review.reviewer} ({review.cause.value})"
        else:
            if not raw:
                return None, CheckStep(step="replay", ok=False, detail="an automatic verdict without answers")
            verdict = decision_for(claim, policy, outcome)
            if not isinstance(verdict, Decision):
                what = "no verdict" if verdict is None else f"needs a person ({verdict.cause.value})"
                return None, CheckStep(step="replay", ok=False, detail=f"{detail}; policy: {what}")
            decision = verdict
            review = None
    except (AnswerNotRecordedError, ValueError, KeyError) as exc:
        return None, CheckStep(step="replay", ok=False, detail=f"{type(exc).__name__}: {exc}")
    record = record_of(claim, evidence, decision, policy.policy_version, digests, review)
    return (decision, record), CheckStep(step="replay", ok=True, detail=detail)


def _fetch_again(
    claim: ClaimInput, policy: PolicyParams, raw: Sequence[RawAnswer]
) -> tuple[Any, ReplayTransport]:
    factory = REPLAY_ADAPTERS.get(claim.exchange)
    if factory is None:
        raise ValueError(f"no replay adapter for {claim.exchange.slug}")
    transport = ReplayTransport(claim.exchange.slug, raw)
    adapter = factory(replay_credentials(claim.exchange), transport, transport.clock)
    request = VerificationRequest.for_claim(claim, policy.claim_window_seconds)
    return fetch(adapter, request), transport


def _hash_or_error(record: Mapping[str, Any]) -> str:
    try:
        return hash_record(record)
    except TypeError as exc:  # a float smuggled into the record
        return f"unhashable ({exc})"


def _verdict(decision: Decision) -> dict[str, Any]:
    return decision.model_dump(mode="json")


def _compare(step: str, got: Any, want: Any) -> CheckStep:
    if got == want:
        return CheckStep(step=step, ok=True, detail=f"{got}" if got != [] else "identical")
    return CheckStep(step=step, ok=False, detail=f"re-derived {got} != bundle {want}")


def _differences(got: Mapping[str, Any], want: Mapping[str, Any]) -> list[str]:
    """Top-level keys whose values differ (the record is small: claim, evidence, answers, decision, ...)."""
    return sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))


CLAIM_VERIFIED_ABI: list[dict[str, Any]] = [
    {
        "anonymous": False,
        "name": "ClaimVerified",
        "type": "event",
        "inputs": [
            {"indexed": True, "name": "claimId", "type": "uint256"},
            {"indexed": True, "name": "validator", "type": "address"},
            {"indexed": False, "name": "approved", "type": "bool"},
            {"indexed": False, "name": "payout", "type": "uint256"},
            {"indexed": False, "name": "evidenceHash", "type": "bytes32"},
            {"indexed": False, "name": "reasonCode", "type": "uint16"},
        ],
    }
]
"""``ILeverageGuardTypes.ClaimVerified``, inline so an auditor needs no compiled project."""


def claim_verified(rpc: str, guard: str, claim_id: int, from_block: int = 0) -> dict[str, Any] | None:
    """The claim's latest ``ClaimVerified`` (a reopened claim has several): approved, payout, evidence_hash,
    reason_code, block, tx."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 10}))
    contract = w3.eth.contract(address=Web3.to_checksum_address(guard), abi=CLAIM_VERIFIED_ABI)
    logs = contract.events.ClaimVerified.get_logs(
        from_block=from_block, to_block="latest", argument_filters={"claimId": claim_id}
    )
    if not logs:
        return None
    last = max(logs, key=lambda e: (e["blockNumber"], e["logIndex"]))
    args = last["args"]
    return {
        "approved": bool(args["approved"]),
        "payout": int(args["payout"]),
        "evidence_hash": "0x" + bytes(args["evidenceHash"]).hex(),
        "reason_code": int(args["reasonCode"]),
        "block": int(last["blockNumber"]),
        "tx": "0x" + bytes(last["transactionHash"]).hex().removeprefix("0x"),
    }
