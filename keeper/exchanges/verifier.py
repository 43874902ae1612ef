"""The verifier: each claim's order looked up on its exchange (account lookup, per-account scheduling,
budget-aware admission, adapter call) and the errors classified into outcomes.

``verify`` never raises for an exchange or account problem: it returns an outcome whose disposition says
whether the claim gets a verdict (evidence or a rejection reason) or stays pending.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from keeper import tracing
from keeper.evidence import ReviewCause
from keeper.exchanges.admission import Admission, ClaimCost, admit_within_budget
from keeper.exchanges.base import ExchangeAdapter
from keeper.exchanges.errors import (
    BackOffError,
    Disposition,
    ExchangeError,
    MalformedResponseError,
    NeedsReviewError,
)
from keeper.exchanges.limits import EndpointLimiter
from keeper.exchanges.registry import AdapterRegistry, UnsupportedExchangeError
from keeper.exchanges.scheduling import AccountScheduler, ConditionWait, Job, condition_wait
from keeper.exchanges.transport import HttpTransport
from keeper.interface import Exchange, ReasonCode
from keeper.settings import AccountRegistry, UnknownAccountError
from keeper.verification import OutcomeObserver, OutcomeStatus, VerificationOutcome, VerificationRequest

log = logging.getLogger(__name__)


class Verifier:
    def __init__(
        self,
        accounts: AccountRegistry,
        adapters: AdapterRegistry,
        max_workers: int = 4,
        observe: OutcomeObserver | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wait: ConditionWait = condition_wait,
    ) -> None:
        """``observe(outcome, seconds)`` is called after each verification (metrics). ``clock`` and ``wait``
        are the scheduler's (a test passes a fake clock)."""
        self._accounts = accounts
        self._adapters = adapters
        self._max_workers = max_workers
        self._observe = observe
        self._clock = clock
        self._wait = wait
        self.last_schedule: AccountScheduler | None = None
        """The scheduler of the latest ``verify_stream`` (its ``stats``: idle waits, order taken)."""

    def exchange_transports(self) -> dict[Exchange, HttpTransport]:
        """Each exchange's shared transport (its clock and back-off, for metrics)."""
        return self._adapters.transports()

    def verify(self, request: VerificationRequest) -> VerificationOutcome:
        try:
            credentials = self._accounts.lookup(request.account_ref)
        except UnknownAccountError as exc:
            # A fact the verify command reports as before; decision_for sends it to a person, never a verdict.
            return _rejected(request, ReasonCode.UNKNOWN_ACCOUNT, "unknown_account", str(exc))
        if credentials.exchange is not request.exchange:
            detail = (
                f"account is configured for {credentials.exchange.slug}, claim names {request.exchange.slug}"
            )
            return _rejected(request, ReasonCode.ACCOUNT_MISMATCH, "account_mismatch", detail)
        try:
            adapter = self._adapters.adapter_for(credentials)
        except UnsupportedExchangeError as exc:
            return _review(request, ReviewCause.UNSUPPORTED_EXCHANGE, "unsupported_exchange", str(exc))
        return fetch(adapter, request)

    def verify_many(self, requests: Sequence[VerificationRequest]) -> list[VerificationOutcome]:
        """Verify in a bounded pool; the per-endpoint limiters, not a global lock, pace the calls. Outcomes
        come back in request order."""
        by_index = dict(self.verify_stream(requests))
        return [by_index[i] for i in range(len(requests))]

    def verify_stream(
        self, requests: Sequence[VerificationRequest]
    ) -> Iterator[tuple[int, VerificationOutcome]]:
        """(index into ``requests``, outcome) in completion order. The workers keep verifying while the
        caller handles each outcome, so the caller's chain work overlaps the exchange calls.

        Each worker takes the next claim of an account whose limiter keys have room (``AccountScheduler``),
        the accounts in turn, so no worker sleeps on one account's empty bucket while another's claim could
        go; it sleeps only when no account is ready.
        """
        if not requests:
            return
        scheduler = AccountScheduler(
            (self._job_for(i, r) for i, r in enumerate(requests)), clock=self._clock, wait=self._wait
        )
        self.last_schedule = scheduler
        # Each grant in a worker's thread turns that claim's reserved units into used ones.
        unsubscribe = [limiter.subscribe(scheduler.note_acquired) for limiter in self._limiters()]
        results: queue.SimpleQueue[tuple[int, VerificationOutcome] | BaseException] = queue.SimpleQueue()

        @tracing.in_current_context  # the caller's span (the pass's), which a new thread does not inherit
        def work() -> None:
            try:
                while (job := scheduler.take()) is not None:
                    try:
                        with tracing.verify_span(job.index):  # ended before the caller sees the outcome
                            outcome = self._verify_guarded(requests[job.index])
                        results.put((job.index, outcome))
                    finally:
                        scheduler.done(job)
            except BaseException as exc:  # e.g. an observer's failure: the caller sees it, as a pool's
                results.put(exc)

        workers = [
            threading.Thread(target=work, name=f"verify_{n}", daemon=True)
            for n in range(min(self._max_workers, len(requests)))
        ]
        try:
            for worker in workers:
                worker.start()
            for _ in requests:
                result = results.get()
                if isinstance(result, BaseException):
                    raise result
                yield result
        finally:
            # A caller that stops early (an exception, SIGTERM between steps) does not wait for the rest:
            # queued claims are dropped, the ones running finish.
            scheduler.close()
            for worker in workers:
                if worker.is_alive():
                    worker.join()
            for stop in unsubscribe:
                stop()

    def admit(self, requests: Sequence[VerificationRequest]) -> Admission:
        """The claims of a pass that the remaining budget of weight-limited exchanges covers (Binance's
        weight per IP), each at its worst-case weight; claims of other exchanges are always admitted. The
        waiting ones stay due for a later pass: nothing was asked, so no attempt counts against them."""
        remaining = self._adapters.remaining_budgets()
        return admit_within_budget([self._cost_of(r, remaining) for r in requests], remaining)

    def admission_caps(self) -> dict[Exchange, int]:
        """Per weight-limited exchange, the most claims ``admit`` can admit now (its remaining budget over a
        claim's worst-case weight): a pass reads no more of that exchange's due claims than this."""
        return self._adapters.admission_caps()

    def _cost_of(self, request: VerificationRequest, budgets: dict[str, int]) -> ClaimCost | None:
        adapter = self._adapter_or_none(request)
        if adapter is None:
            return None  # no exchange is asked: the verifier answers from the configuration
        costs = [
            ClaimCost(budget=need.key, weight=need.weight)
            for need in adapter.limiter_needs(request.order_query(adapter.now_ms()))
            if need.key in budgets
        ]
        if len(costs) > 1:
            budgets_named = ", ".join(cost.budget for cost in costs)
            raise ValueError(f"a {request.exchange.slug} claim draws on several budgets: {budgets_named}")
        return costs[0] if costs else None

    def _job_for(self, index: int, request: VerificationRequest) -> Job:
        account = (request.exchange, request.account_ref.lower())
        try:
            adapter = self._adapter_or_none(request)
            if adapter is None:
                return Job(index, account)
            needs = adapter.limiter_needs(request.order_query(adapter.now_ms()))
        except Exception:  # the claim still goes; verify() turns the same failure into a review
            log.exception("no limiter forecast for order %s on %s", request.order_id, request.exchange.slug)
            return Job(index, account)
        return Job(index, account, needs, self._adapters.limiter_for(request.exchange))

    def _adapter_or_none(self, request: VerificationRequest) -> ExchangeAdapter | None:
        """The adapter ``verify`` would call, or None when it answers without asking an exchange."""
        try:
            credentials = self._accounts.lookup(request.account_ref)
        except UnknownAccountError:
            return None
        if credentials.exchange is not request.exchange:
            return None
        try:
            return self._adapters.adapter_for(credentials)
        except UnsupportedExchangeError:
            return None

    def _limiters(self) -> list[EndpointLimiter]:
        found: list[EndpointLimiter] = []
        for exchange in Exchange:
            limiter = self._adapters.limiter_for(exchange)
            if limiter is not None and all(limiter is not seen for seen in found):
                found.append(limiter)
        return found

    def _verify_guarded(self, request: VerificationRequest) -> VerificationOutcome:
        started = time.monotonic()
        try:
            outcome = self.verify(request)
        except Exception as exc:  # one bad claim must not sink the batch; it goes to a human instead
            log.exception("internal error verifying order %s on %s", request.order_id, request.exchange.slug)
            outcome = _review(
                request, ReviewCause.INTERNAL_ERROR, "internal_error", f"{type(exc).__name__}: {exc}"
            )
        if self._observe is not None:
            self._observe(outcome, time.monotonic() - started)
        return outcome


def fetch(adapter: ExchangeAdapter, request: VerificationRequest) -> VerificationOutcome:
    """One adapter call as an outcome, with every answer the adapter read (a replay calls this too)."""
    try:
        evidence = adapter.fetch_evidence(request.order_query(adapter.now_ms()))
    except ExchangeError as exc:
        return _from_error(request, exc).model_copy(update={"answers": list(adapter.answers)})
    return VerificationOutcome(
        request=request, status=OutcomeStatus.VERIFIED, evidence=evidence, answers=list(adapter.answers)
    )


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


def _review(request: VerificationRequest, cause: ReviewCause, error: str, detail: str) -> VerificationOutcome:
    return VerificationOutcome(
        request=request,
        status=OutcomeStatus.NEEDS_REVIEW,
        error=error,
        disposition=Disposition.MANUAL_REVIEW,
        detail=detail,
        review_cause=cause,
    )


def _from_error(request: VerificationRequest, exc: ExchangeError) -> VerificationOutcome:
    if exc.disposition is Disposition.REJECT:
        return _rejected(request, ReasonCode.ORDER_NOT_FOUND, exc.error_name, str(exc))
    saved = exc.saved_to if isinstance(exc, MalformedResponseError) else None
    cause: ReviewCause | None = None
    if isinstance(exc, NeedsReviewError | MalformedResponseError):
        cause = exc.cause
    if exc.disposition is Disposition.MANUAL_REVIEW and cause is None:
        cause = ReviewCause.INTERNAL_ERROR
    log.warning("claim order %s %s: %s", request.order_id, cause or exc.disposition, exc)
    return VerificationOutcome(
        request=request,
        status=OutcomeStatus.NEEDS_REVIEW if cause is not None else OutcomeStatus.DEFERRED,
        error=exc.error_name,
        disposition=exc.disposition,
        detail=str(exc),
        raw_body_saved_to=None if saved is None else str(saved),
        review_cause=cause,
        retry_at=exc.until if isinstance(exc, BackOffError) else None,
    )
