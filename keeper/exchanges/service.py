"""Verification of claims' orders: account lookup, adapter call, and error classification.

``verify`` never raises for an exchange or account problem: it returns an outcome whose disposition says
whether the claim gets a verdict (evidence or a rejection reason) or stays pending.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from keeper.evidence import AccountRef, ClaimInput, LiquidationEvidence
from keeper.exchanges.errors import Disposition, ExchangeError, MalformedResponseError
from keeper.exchanges.registry import AdapterRegistry, UnsupportedExchangeError
from keeper.interface import Exchange, ReasonCode
from keeper.policy import Decision, PolicyParams, decide, reject_without_evidence
from keeper.settings import AccountRegistry, UnknownAccountError

log = logging.getLogger(__name__)


class VerificationRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    exchange: Exchange
    account_ref: AccountRef
    order_id: str
    instrument: str

    @classmethod
    def for_claim(cls, claim: ClaimInput) -> VerificationRequest:
        return cls(
            exchange=claim.exchange,
            account_ref=claim.account_ref,
            order_id=claim.order_id,
            instrument=claim.instrument,
        )


class OutcomeStatus(StrEnum):
    VERIFIED = "verified"
    """Evidence was obtained; the policy decides."""
    REJECTED = "rejected"
    """No evidence, but the answer itself is a verdict (reason code set)."""
    DEFERRED = "deferred"
    """Nothing decided; keep the claim pending (our outage, an alert, or a manual review)."""


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


OutcomeObserver = Callable[["VerificationOutcome", float], None]


class Verifier:
    def __init__(
        self,
        accounts: AccountRegistry,
        adapters: AdapterRegistry,
        max_workers: int = 4,
        observe: OutcomeObserver | None = None,
    ) -> None:
        """``observe(outcome, seconds)`` is called after each verification (metrics)."""
        self._accounts = accounts
        self._adapters = adapters
        self._max_workers = max_workers
        self._observe = observe

    def verify(self, request: VerificationRequest) -> VerificationOutcome:
        try:
            credentials = self._accounts.lookup(request.account_ref)
        except UnknownAccountError as exc:
            return _rejected(request, ReasonCode.UNKNOWN_ACCOUNT, "unknown_account", str(exc))
        if credentials.exchange is not request.exchange:
            detail = (
                f"account is configured for {credentials.exchange.slug}, claim names {request.exchange.slug}"
            )
            return _rejected(request, ReasonCode.ACCOUNT_MISMATCH, "account_mismatch", detail)
        try:
            adapter = self._adapters.adapter_for(credentials)
            evidence = adapter.fetch_evidence(request.order_id, request.instrument)
        except UnsupportedExchangeError as exc:
            return _deferred(request, "unsupported_exchange", Disposition.MANUAL_REVIEW, str(exc))
        except ExchangeError as exc:
            return _from_error(request, exc)
        return VerificationOutcome(request=request, status=OutcomeStatus.VERIFIED, evidence=evidence)

    def verify_many(self, requests: Sequence[VerificationRequest]) -> list[VerificationOutcome]:
        """Verify in a bounded pool; the per-endpoint limiters, not a global lock, pace the calls. Outcomes
        come back in request order."""
        by_index = dict(self.verify_stream(requests))
        return [by_index[i] for i in range(len(requests))]

    def verify_stream(
        self, requests: Sequence[VerificationRequest]
    ) -> Iterator[tuple[int, VerificationOutcome]]:
        """(index into ``requests``, outcome) in completion order. The pool keeps verifying while the caller
        handles each outcome, so the caller's chain work overlaps the exchange calls."""
        pool = ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="verify")
        try:
            futures = {pool.submit(self._verify_guarded, r): i for i, r in enumerate(requests)}
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            # A caller that stops early (an exception, SIGTERM between steps) does not wait for the rest.
            pool.shutdown(wait=True, cancel_futures=True)

    def _verify_guarded(self, request: VerificationRequest) -> VerificationOutcome:
        started = time.monotonic()
        try:
            outcome = self.verify(request)
        except Exception as exc:  # one bad claim must not sink the batch; it goes to a human instead
            log.exception("internal error verifying order %s on %s", request.order_id, request.exchange.slug)
            outcome = _deferred(
                request, "internal_error", Disposition.MANUAL_REVIEW, f"{type(exc).__name__}: {exc}"
            )
        if self._observe is not None:
            self._observe(outcome, time.monotonic() - started)
        return outcome


def decision_for(claim: ClaimInput, policy: PolicyParams, outcome: VerificationOutcome) -> Decision | None:
    """The verdict for a claim, or None while it must stay pending."""
    if outcome.status is OutcomeStatus.VERIFIED and outcome.evidence is not None:
        return decide(claim, policy, outcome.evidence)
    if outcome.status is OutcomeStatus.REJECTED and outcome.reason_code is not None:
        return reject_without_evidence(claim, policy, outcome.reason_code)
    return None


def _rejected(
    request: VerificationRequest, reason: ReasonCode, error: str, detail: str
) -> VerificationOutcome:
    return VerificationOutcome(
        request=request,
        status=OutcomeStatus.REJECTED,
        reason_code=reason,
        error=error,
        disposition=Disposition.REJECT,
        detail=detail,
    )


def _deferred(
    request: VerificationRequest, error: str, disposition: Disposition, detail: str
) -> VerificationOutcome:
    return VerificationOutcome(
        request=request, status=OutcomeStatus.DEFERRED, error=error, disposition=disposition, detail=detail
    )


def _from_error(request: VerificationRequest, exc: ExchangeError) -> VerificationOutcome:
    if exc.disposition is Disposition.REJECT:
        return _rejected(request, ReasonCode.ORDER_NOT_FOUND, exc.error_name, str(exc))
    log.warning("claim order %s deferred (%s): %s", request.order_id, exc.disposition, exc)
    saved = exc.saved_to if isinstance(exc, MalformedResponseError) else None
    return VerificationOutcome(
        request=request,
        status=OutcomeStatus.DEFERRED,
        error=exc.error_name,
        disposition=exc.disposition,
        detail=str(exc),
        raw_body_saved_to=None if saved is None else str(saved),
    )
