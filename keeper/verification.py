"""What the verifier is asked about a claim (``VerificationRequest``) and what it answers
(``VerificationOutcome``): the records between the exchange adapters and the policy."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from keeper.evidence import AccountRef, ClaimInput, LiquidationEvidence, ReviewCause
from keeper.exchanges.answers import RawAnswer
from keeper.exchanges.base import OrderQuery
from keeper.exchanges.errors import Disposition
from keeper.interface import Exchange, ReasonCode


class VerificationRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    exchange: Exchange
    account_ref: AccountRef
    order_id: str
    instrument: str
    not_before_ms: int = Field(default=0, ge=0)
    """The earliest liquidation the claim can be about: filed at most the claim window after it."""
    not_after_ms: int = Field(default=0, ge=0)
    """The latest: when the claim was filed (0: now)."""
    seen_at_ms: int = Field(default=0, ge=0)
    """When this keeper first saw the claim on chain, on its own clock (unix ms; 0: not known)."""

    @classmethod
    def for_claim(
        cls, claim: ClaimInput, claim_window_seconds: int, seen_at_ms: int = 0
    ) -> VerificationRequest:
        return cls(
            exchange=claim.exchange,
            account_ref=claim.account_ref,
            order_id=claim.order_id,
            instrument=claim.instrument,
            not_before_ms=max(0, claim.submitted_at - claim_window_seconds) * 1000,
            not_after_ms=claim.submitted_at * 1000,
            seen_at_ms=seen_at_ms,
        )

    def order_query(self, now_ms: int, local_now_ms: int | None = None) -> OrderQuery:
        """The query on the adapter's clock (``now_ms``); ``local_now_ms``: this keeper's clock now (unix ms,
        default the system clock), which carries the claim's age since it was seen across to that clock."""
        not_after = self.not_after_ms or now_ms
        local_now = int(time.time() * 1000) if local_now_ms is None else local_now_ms
        age = max(0, local_now - self.seen_at_ms) if self.seen_at_ms else 0
        return OrderQuery(
            order_id=self.order_id,
            instrument=self.instrument,
            not_before_ms=min(self.not_before_ms, not_after),
            not_after_ms=not_after,
            known_since_ms=max(0, now_ms - age),
        )


class OutcomeStatus(StrEnum):
    VERIFIED = "verified"
    """Evidence was obtained; the policy decides."""
    REJECTED = "rejected"
    """No evidence, but the answer itself is a verdict (reason code set)."""
    DEFERRED = "deferred"
    """Nothing decided; keep the claim pending and retry (our outage, the exchange's, or an alert)."""
    NEEDS_REVIEW = "needs_review"
    """The answers cannot settle the claim: it waits for a person (``review_cause``), not for a timer."""


class VerificationOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    request: VerificationRequest
    status: OutcomeStatus
    evidence: LiquidationEvidence | None = None
    reason_code: ReasonCode | None = None
    error: str | None = None
    disposition: Disposition | None = None
    detail: str = ""
    raw_body_saved_to: str | None = None
    review_cause: ReviewCause | None = None
    retry_at: float | None = None
    """Unix seconds before which the exchange must not be asked again (a Binance 429/418 back-off)."""
    answers: list[RawAnswer] = Field(default_factory=list, exclude=True, repr=False)
    """Every exchange answer read, byte for byte (not part of the printed outcome)."""


OutcomeObserver = Callable[["VerificationOutcome", float], None]
