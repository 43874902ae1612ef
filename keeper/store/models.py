"""What the store holds and the ``Store`` protocol the pipeline depends on, whatever the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from keeper.evidence import ClaimInput, LiquidationEvidence, ReviewCause
from keeper.exchanges.answers import RawAnswer
from keeper.policy import Decision, PolicyParams


class ClaimState(StrEnum):
    RECORDED = "recorded"
    """Seen on chain, not yet decided."""
    DEFERRED = "deferred"
    """Verification failed on our side or the exchange's; retried at ``next_attempt_at``."""
    DECIDED = "decided"
    """A verdict is stored and audited but not yet on chain."""
    POSTED = "posted"
    """The verdict is on chain; approved claims wait for their challenge window."""
    PAID = "paid"
    """Terminal: the payout was executed. (A posted rejection stays ``posted``: nothing is left to do.)"""
    VETOED = "vetoed"
    """A guardian or governance vetoed the approval on chain (``ClaimVetoed``); final unless reopened."""
    CANCELLED = "cancelled"
    """Governance cancelled the approval on chain (``ClaimCancelled``); final unless reopened."""
    MANUAL_REVIEW = "manual_review"
    """Automation cannot decide: waits for a person (``keeper review decide``), never for a timer."""


class AppealKind(StrEnum):
    """A claim-appeal event the keeper follows (``ClaimReopened``, ``ClaimCancelled``, ``ClaimVetoed``)."""

    REOPENED = "reopened"
    """Rejected -> Pending on chain: the claim is verified and decided again."""
    CANCELLED = "cancelled"
    VETOED = "vetoed"


APPEAL_STATES = {AppealKind.CANCELLED: ClaimState.CANCELLED, AppealKind.VETOED: ClaimState.VETOED}


class AppealRecord(BaseModel):
    """An appeal event as ingested; applied in chain order in the transaction that records its block range."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int = Field(ge=1)
    kind: AppealKind
    block_number: int = Field(ge=0)
    log_index: int = Field(ge=0)


class TxKind(StrEnum):
    VERIFY = "verify"
    PAYOUT = "payout"


class ClaimRecord(BaseModel):
    """A ``LiquidationClaimed`` event as stored, plus the keeper's processing state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int = Field(ge=1)
    user: str
    exchange: int
    account_ref: str
    order_id: str
    instrument: str
    claimed_loss: int = Field(ge=0)
    block_number: int = Field(ge=0)
    log_index: int = Field(ge=0)
    state: ClaimState = ClaimState.RECORDED
    attempts: int = 0
    next_attempt_at: int = 0
    last_error: str | None = None
    payout_failures: int = 0
    """Batch payouts the token refused (``PayoutFailed``) since the claim was last decided."""
    payout_retry_at: int = 0
    """Chain time before which the payout is not tried (0: any time): a refused payout's back-off, or the
    approval's payableAt (the end of its challenge window) once a pass has read it (``hold_payouts``)."""
    review_cause: ReviewCause | None = None
    """Why the claim went to manual review (kept after a person decides it, as history)."""
    review_detail: str | None = None
    review_entered_at: int | None = None
    """Chain time the claim entered manual review."""
    review_claim: ClaimInput | None = None
    """The claim as judged when it went to review (for the desk; a decision re-reads the chain)."""
    review_earliest_ms: int | None = None
    """The earliest time (unix ms) the claim's liquidation can be: where the exchange's purge clock starts."""
    lease_owner: str | None = None
    """The keeper working on the claim, when keepers share one store (``SqlStore.lease_due``)."""
    lease_expires_at: int = 0
    """When that lease lapses unless renewed: the database's clock, unix ms (0: never leased or released)."""


@dataclass(frozen=True, slots=True)
class AwaitingPayout:
    """What a pass needs of a posted claim that may still be paid: a plain row, not a validated
    ``ClaimRecord`` (at 10,000 claims in their challenge window, building those every pass was half of the
    keeper's time; a pass now reads only those whose ``payout_retry_at`` has come)."""

    claim_id: int
    payout_retry_at: int
    """Chain time before which the payout is not tried (0: any time; ``ClaimRecord.payout_retry_at``)."""


class StoredDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    decision: Decision
    canonical_record: dict[str, Any]
    policy: PolicyParams | None = None
    """The effective policy the decision was made under (None: stored by a keeper before schema 3)."""


class DecisionToSave(BaseModel):
    """One verdict for ``Store.save_decisions``: what ``save_decision`` takes, as one item of a group."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    decision: Decision
    record: dict[str, Any]
    evidence: LiquidationEvidence | None
    answers: Sequence[RawAnswer] | None = None
    policy: PolicyParams | None = None


class StoredTransaction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tx_hash: str
    kind: TxKind
    claim_ids: list[int]
    status: str
    gas_used: int | None = None


class StoreError(RuntimeError):
    """The database is in a state this code cannot handle (e.g. written by a newer keeper)."""


class UnknownClaimError(LookupError):
    def __init__(self, claim_id: int) -> None:
        super().__init__(f"claim {claim_id} is not in the store")
        self.claim_id = claim_id


class Store(Protocol):
    def close(self) -> None: ...
    def record_claims(
        self, claims: Sequence[ClaimRecord], cursor: int, appeals: Sequence[AppealRecord] = ()
    ) -> list[int]: ...
    def cursor(self) -> int | None: ...
    def claim(self, claim_id: int) -> ClaimRecord: ...
    def claims_in_state(self, *states: ClaimState) -> list[ClaimRecord]: ...
    def due_for_verification(
        self, now: int, limit: int | None = None, per_exchange: Mapping[int, int] | None = None
    ) -> list[ClaimRecord]: ...
    def awaiting_payout(self, now: int | None = None) -> list[AwaitingPayout]: ...
    def hold_payouts(self, not_before: Mapping[int, int]) -> None: ...
    def count_by_state(self) -> dict[ClaimState, int]: ...
    def defer(self, claim_id: int, error: str, next_attempt_at: int) -> None: ...
    def save_decision(
        self,
        claim_id: int,
        decision: Decision,
        record: dict[str, Any],
        evidence: LiquidationEvidence | None,
        answers: Sequence[RawAnswer] | None = None,
        policy: PolicyParams | None = None,
    ) -> None: ...
    def save_decisions(self, decisions: Sequence[DecisionToSave]) -> None: ...
    def to_review(
        self,
        claim_id: int,
        cause: ReviewCause,
        detail: str,
        answers: Sequence[RawAnswer],
        now: int,
        claim: ClaimInput | None = None,
        earliest_ms: int | None = None,
        evidence: LiquidationEvidence | None = None,
    ) -> None: ...
    def in_review(self) -> list[ClaimRecord]: ...
    def answers(self, claim_id: int) -> list[RawAnswer]: ...
    def decision(self, claim_id: int) -> StoredDecision | None: ...
    def evidence(self, claim_id: int) -> LiquidationEvidence | None: ...
    def set_state(self, claim_ids: Sequence[int], state: ClaimState) -> None: ...
    def payout_failed(self, claim_id: int, error: str, retry_at: int, count: bool = True) -> None: ...
    def record_transaction(self, tx: StoredTransaction) -> None: ...
    def transactions(self) -> list[StoredTransaction]: ...
    def lease_due(
        self,
        owner: str,
        now: int,
        seconds: float,
        limit: int,
        per_exchange: Mapping[int, int] | None = None,
    ) -> list[ClaimRecord]: ...
    def lease_decided(self, owner: str, seconds: float, limit: int) -> list[ClaimRecord]: ...
    def renew_leases(
        self, owner: str, seconds: float, claim_ids: Sequence[int] | None = None
    ) -> list[int]: ...
    def release_leases(self, owner: str, claim_ids: Sequence[int]) -> None: ...
    def lease_due_by_account(self, owner: str, now: int, seconds: float, limit: int) -> list[ClaimRecord]: ...
    def renew_account_leases(self, owner: str, seconds: float) -> None: ...
