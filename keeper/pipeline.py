"""One pass of the keeper: chain logs -> store -> exchange verification -> policy -> audit -> chain.

``Pipeline.run_once`` is safe to repeat and to interrupt: the cursor moves only in the same transaction that
records the claims it covers, every decision is stored and audited before it is posted, and the chain client
re-reads each claim's on-chain status before posting or paying, so a restart never posts a verdict twice.
Verification streams: each full batch of verdicts is posted while the exchanges are still being asked
about the rest. A batch of verdicts whose dry-run reverts is split in halves until the verdict that reverts
alone is found; that claim is deferred (and logged as an ALERT; until the next UTC day when the daily approval
limit is spent), the others go out. A payout the token refuses (``PayoutFailed``) is an ALERT and that claim
is backed off (``PipelineConfig.payout_retry_seconds``) while the rest of the batch is paid. Claims are judged
against the policy term in force when they were filed, rebuilt from the chain's policy events. The loop
around ``run_once`` is ``keeper/daemon.py``.

A claim the answers cannot settle (``ReviewNeeded``: aged out of the exchange's history, an unknown account,
a fee in another asset, ...) goes to ``manual_review`` with its cause and the raw answers read, and waits for
a person (``keeper review decide`` -> ``Pipeline.decide_review``): never a final rejection, never re-polled.
A person's decision is stored as ``decided`` and posted by the next pass like any other verdict, so the
daemon stays the only writer to the chain. The raw answers of every verdict are stored beside it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from keeper import tracing
from keeper.audit_log import AuditLog
from keeper.chain import (
    ChainClient,
    ClaimedEvent,
    ClaimView,
    FailedPayout,
    PendingTransaction,
    PolicyChange,
    PolicyView,
    SentTransaction,
    SkippedItem,
    WriteRevertedError,
    term_at,
)
from keeper.chain_codec import batches
from keeper.claim_ownership import ClaimOwnership, LeaseConfig, Leases, Shards
from keeper.evidence import ClaimInput, ReviewCause
from keeper.exchanges.answers import answer_digests
from keeper.exchanges.errors import Disposition
from keeper.exchanges.verifier import Verifier
from keeper.interface import DAY, ClaimStatus, Exchange, ReasonCode, SkipReason
from keeper.policy import (
    Decision,
    PolicyParams,
    Review,
    ReviewNeeded,
    decide_by_person,
    decision_for,
    hash_record,
    record_of,
)
from keeper.store import (
    AppealKind,
    ClaimRecord,
    ClaimState,
    DecisionToSave,
    Store,
    StoredTransaction,
    TxKind,
)
from keeper.verification import VerificationOutcome, VerificationRequest

log = logging.getLogger(__name__)
APPROVAL_LIMIT_ERROR = "DailyApprovalLimitExceeded"
SEEN_HORIZON_MS = 3_600_000
"""How long a note of when a claim was first seen is kept (``Pipeline._seen_at_ms``): a claim older than
this is taken as seen anew, which only asks the exchange again."""


def next_utc_day(now: int) -> int:
    """The start of the UTC day after ``now``: when the contract's daily limits reset."""
    return (now // DAY + 1) * DAY


class NotInReviewError(RuntimeError):
    """A person tried to decide a claim that is not waiting for one (decided, posted, or unknown)."""

    def __init__(self, claim_id: int, state: str) -> None:
        super().__init__(f"claim {claim_id} is {state}, not in manual review")
        self.claim_id = claim_id
        self.state = state


class ClaimWindowTooLongError(ValueError):
    """The keeper would accept claims filed later than the contract lets a trader file after coverage ends."""

    def __init__(self, claim_window_seconds: int, claim_grace_period: int) -> None:
        super().__init__(
            f"LG_CLAIM_WINDOW_SECONDS={claim_window_seconds} is longer than the contract's "
            f"claimGracePeriod()={claim_grace_period}: lower the claim window to at most the grace period"
        )
        self.claim_window_seconds = claim_window_seconds
        self.claim_grace_period = claim_grace_period


def check_claim_window(policy: PolicyParams, chain: ChainClient) -> None:
    """Refuses a claim window longer than the contract's claim grace period (read from the chain)."""
    grace = chain.claim_grace_period()
    if policy.claim_window_seconds > grace:
        raise ClaimWindowTooLongError(policy.claim_window_seconds, grace)


@dataclass(frozen=True)
class PipelineConfig:
    confirmations: int = 2
    start_block: int = 0
    verify_batch_size: int = 20
    payout_batch_size: int = 20
    defer_base_seconds: int = 60
    defer_max_seconds: int = 3600
    shard_count: int = 1
    shard_index: int = 0
    shard_takeover_seconds: int = 3600
    lease: LeaseConfig | None = None
    """Set when keepers share one store (PostgreSQL): claims are leased (``claim_ownership.Leases``) and
    the shard settings are not used."""
    payout_retry_seconds: tuple[int, ...] = (3_600, 6 * 3_600, 24 * 3_600)
    """Back-off after the n-th refused payout of a claim (``PayoutFailed``); the last entry repeats."""
    pass_claim_limit: int | None = 1_000
    """Due claims a pass takes up at most (None: all): a pass's memory and length stay bounded on a
    crash-day backlog, and a weight-limited exchange's budget is offered again at each pass's start instead
    of idling while one pass works through the other exchanges' thousands. With shards (``shard_count`` >
    1) a pass takes every due claim: the other shards' claims, never ours until their takeover time, would
    otherwise fill the limit and starve ours."""


PASS_STEPS = ("ingest", "decide", "post", "pay")
"""The steps of a pass, in order; a ``PassObserver`` is told each one's time under these names."""
EXCHANGE_WAIT = "exchange_wait"
"""Part of "decide": the time the pass waited for the verifier's next outcome (the exchanges' answers)."""
POST_OVERLAPPED = "post_overlapped"
"""Part of "decide": verdict batches posted while the exchanges were still being asked about the rest."""

ItemT = TypeVar("ItemT")


class PassObserver(Protocol):
    """Told how long each part of a pass took (``PASS_STEPS``, ``EXCHANGE_WAIT``, ``POST_OVERLAPPED``): the
    bench's breakdown of where a backlog's time goes. The daemon runs without one."""

    def step_timed(self, step: str, seconds: float) -> None: ...


@dataclass
class RunReport:
    """What one pass did; claim ids per step."""

    scanned_to: int | None = None
    recorded: list[int] = field(default_factory=list)
    decided: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    posted: list[int] = field(default_factory=list)
    paid: list[int] = field(default_factory=list)
    transactions: list[str] = field(default_factory=list)
    verdict_reasons: list[int] = field(default_factory=list)
    """Reason code of each verdict decided in this pass (0 = approved)."""
    transaction_outcomes: list[tuple[str, str, int | None]] = field(default_factory=list)
    """(kind, status, gas used) of each transaction sent."""
    reverted_dry_runs: list[str] = field(default_factory=list)
    """Kind of each write whose dry-run reverted (nothing was sent)."""
    held: list[int] = field(default_factory=list)
    """Claims whose verdict reverts on chain on its own: deferred, not posted."""
    appeals: list[tuple[int, str]] = field(default_factory=list)
    """(claim id, kind) of each ClaimReopened / ClaimCancelled / ClaimVetoed ingested."""
    payout_failed: list[int] = field(default_factory=list)
    """Claims whose payout the token refused (PayoutFailed): backed off, still Approved on chain."""
    payout_skipped: list[tuple[int, int]] = field(default_factory=list)
    """(claim id, SKIP_* reason) of each payout the contract skipped."""
    reviewed: list[tuple[int, str]] = field(default_factory=list)
    """(claim id, cause) of each claim sent to manual review in this pass."""
    waiting_for_budget: list[int] = field(default_factory=list)
    """Claims left due because a weight-limited exchange's budget did not cover them in this pass."""


class Pipeline:
    def __init__(
        self,
        chain: ChainClient,
        store: Store,
        audit: AuditLog,
        verifier: Verifier,
        policy: PolicyParams,
        config: PipelineConfig,
        observer: PassObserver | None = None,
    ) -> None:
        self.chain = chain
        self.store = store
        self.audit = audit
        self.verifier = verifier
        self.policy = policy
        self.config = config
        self.observer = observer
        # Posted claims the chain says are not Approved (e.g. rejected by another keeper): never payable
        # unless an appeal reopens them. (An approval's payableAt is kept in the store: ``hold_payouts``.)
        self._not_payable: set[int] = set()
        # The policy logs read so far (up to block _policy_read_to), so a pass reads only the new blocks'.
        self._policy_by_user: dict[str, list[PolicyChange]] = {}
        self._decided_this_pass: set[int] = set()
        # The last verdict batch sent and not yet seen mined (its verdicts, the transaction): settled before
        # the next batch is sent and at the end of the post step, so the keeper goes on deciding while a
        # batch is mined instead of waiting for each receipt. (A poster thread that sent and waited on its
        # own was slower on the crash-day bench: starved of the GIL by the verify workers, it fell behind.)
        self._in_flight: tuple[list[tuple[int, Decision]], PendingTransaction] | None = None
        self._policy_read_to = self.config.start_block - 1
        # When this process first saw each claim still to verify (its clock, unix ms; in the order seen): an
        # exchange answer read since then is as fresh as one read for the claim at once, so claims seen
        # together share day-window reads (OrderQuery.known_since_ms). Noted when a claim is recorded, as a
        # pass reads only the due claims it can take up; dropped once it is concluded, or after
        # SEEN_HORIZON_MS (another keeper's claims are never concluded here; a later note is only stricter).
        self._seen_at_ms: dict[int, int] = {}
        self._leases = None if config.lease is None else Leases(config.lease)

    @property
    def ownership(self) -> ClaimOwnership:
        """Which claims this keeper works on: leases in a shared store, else its shard (read from
        ``config`` each time: a test may change the shard settings between passes)."""
        if self._leases is not None:
            return self._leases
        return Shards(self.config.shard_count, self.config.shard_index, self.config.shard_takeover_seconds)

    @tracing.traced_pass
    def run_once(self, should_stop: Callable[[], bool] = lambda: False) -> RunReport:
        """One pass; ``should_stop`` is checked between steps (a SIGTERM finishes the current step only)."""
        report = RunReport()
        self._decided_this_pass = set()
        try:
            steps = (self._ingest, self._decide, self._post, self._pay)
            for name, step in zip(PASS_STEPS, steps, strict=True):
                with self._timed(name):
                    step(report)
                if should_stop():
                    break
        finally:
            self._settle(report)  # a pass never ends with a verdict batch unaccounted for
        return report

    # --- step 1: logs -> store
    def _ingest(self, report: RunReport) -> None:
        safe_head = self.chain.head() - self.config.confirmations
        cursor = self.store.cursor()
        start = self.config.start_block if cursor is None else cursor + 1
        if safe_head < start:
            return
        events = self.chain.claimed_events(start, safe_head)
        appeals = self.chain.appeal_events(start, safe_head)
        # One transaction: claims, appeals and cursor together, so a crash cannot skip either.
        report.recorded = self.store.record_claims(
            [_record(e) for e in events], cursor=safe_head, appeals=appeals
        )
        report.scanned_to = safe_head
        self._note_seen(report.recorded)
        for appeal in appeals:
            report.appeals.append((appeal.claim_id, appeal.kind.value))
            self._not_payable.discard(appeal.claim_id)  # a reopened claim may be approved this time
            if appeal.kind is AppealKind.REOPENED:
                log.warning("claim %d was reopened on chain; verifying it again", appeal.claim_id)

    # --- step 2: verify + decide + persist + audit
    def _decide(self, report: RunReport) -> None:
        now = self.chain.now()
        waiting = self.store.in_review()
        if waiting:
            # Another keeper (or governance) may decide a claim while it waits for our person: follow it.
            views = self.chain.claims([claim.claim_id for claim in waiting])
            for claim in waiting:
                self._settled_elsewhere(claim, views[claim.claim_id])
        due = self._due(now)
        self._note_seen([claim.claim_id for claim in due])  # due since before this process recorded it
        if not due:
            return
        # A weight-limited exchange (Binance) gets only the claims its budget covers now; the rest stay due,
        # with no attempt counted (the exchange did not refuse them, the keeper held them back) and no read.
        admission = self.verifier.admit([_admission_request(claim) for claim in due])
        if admission.waiting:
            log.info("%d claim(s) wait for exchange budget: %s", len(admission.waiting), admission.reason)
            report.waiting_for_budget = [due[i].claim_id for i in admission.waiting]
            # Another keeper's budget (its own IP's weight) may cover them now.
            self.ownership.release(self.store, report.waiting_for_budget)
            due = [due[i] for i in admission.admitted]
            if not due:
                return
        # Each claim's status and its trader's policy, batched (keeper/chain_codec.py): reads per claim do not
        # grow with the backlog.
        views, policies = self.chain.claims_and_policies(
            [claim.claim_id for claim in due], [claim.user for claim in due]
        )
        dues = [
            (claim, views[claim.claim_id])
            for claim in due
            if not self._settled_elsewhere(claim, views[claim.claim_id])
            and self.ownership.ours(claim, views[claim.claim_id], now)
        ]
        for claim in due:
            if views[claim.claim_id].status is not ClaimStatus.PENDING:
                self._seen_at_ms.pop(claim.claim_id, None)
        if not dues:
            return
        # The policy logs up to the last claim's block, read once per pass for every claim of it.
        changes = self._policy_changes_to(max(d.block_number for d, _ in dues))
        inputs = [
            self._claim_input(due, view, policies[due.user], changes.get(due.user, [])) for due, view in dues
        ]
        policy = self._effective_policy()
        seen_now = int(time.time() * 1000)
        requests = [
            VerificationRequest.for_claim(
                c, policy.claim_window_seconds, self._seen_at_ms.get(c.claim_id, seen_now)
            )
            for c in inputs
        ]
        # Verdicts are audited and stored in groups of a verdict batch (one fsync each for the audit log and
        # the database per group, not per verdict), each group before its batch is posted.
        concluded: list[DecisionToSave] = []
        tracing.verifying(inputs)
        try:
            for index, outcome in self._waited(self.verifier.verify_stream(requests)):
                self.ownership.working(self.store)
                with tracing.decide_span(index):
                    verdict = self._conclude(inputs[index], outcome, policy, now, report)
                if verdict is None:
                    continue
                concluded.append(verdict)
                if len(concluded) >= self.config.verify_batch_size:
                    group, concluded = concluded, []
                    self._save(group, now, report)
                    # Posted while the exchanges are still being asked about the rest.
                    with self._timed(POST_OVERLAPPED):
                        self._post_group(group, report)
        finally:
            # Stopped or failed mid-stream: the verdicts reached so far are kept, not re-asked.
            self._save(concluded, now, report)

    @contextmanager
    def _timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self.observer is not None:
                self.observer.step_timed(step, time.perf_counter() - started)

    def _waited(self, items: Iterable[ItemT]) -> Iterator[ItemT]:
        """``items`` as they come, the time spent waiting for each told to the observer (``EXCHANGE_WAIT``),
        not the time the pass spends on it."""
        iterator = iter(items)
        while True:
            with self._timed(EXCHANGE_WAIT):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item

    def _due(self, now: int) -> list[ClaimRecord]:
        """The due claims this pass takes up, read from the store and no more: of a weight-limited exchange
        one more than its budget covers (that one waits: ``RunReport.waiting_for_budget`` then says the
        budget binds), and at most ``pass_claim_limit`` in all. The rest of the backlog is not read, so a
        pass costs what it can do, not what waits."""
        per_exchange = {int(exchange): cap + 1 for exchange, cap in self.verifier.admission_caps().items()}
        return self.ownership.due(self.store, now, self._pass_limit(), per_exchange)

    def _pass_limit(self) -> int | None:
        if self._leases is None and self.config.shard_count > 1:
            return None  # see PipelineConfig.pass_claim_limit: the other shards' claims would fill it
        return self.config.pass_claim_limit

    def _note_seen(self, claim_ids: Sequence[int]) -> None:
        """Notes when this process first saw these claims (``_seen_at_ms``); forgets notes past the
        horizon, oldest first (the dict is in the order seen)."""
        seen_now = int(time.time() * 1000)
        for claim_id in claim_ids:
            self._seen_at_ms.setdefault(claim_id, seen_now)
        horizon = seen_now - SEEN_HORIZON_MS
        while self._seen_at_ms:
            oldest = next(iter(self._seen_at_ms))
            if self._seen_at_ms[oldest] >= horizon:
                break
            del self._seen_at_ms[oldest]

    def _conclude(
        self,
        claim: ClaimInput,
        outcome: VerificationOutcome,
        policy: PolicyParams,
        now: int,
        report: RunReport,
    ) -> DecisionToSave | None:
        """Decides one verified claim (the verdict, to be audited and stored by ``_save``); sends it to
        review or defers it instead when there is no verdict yet."""
        self._seen_at_ms.pop(claim.claim_id, None)  # verified: a retry is a new look, as a restart's
        decision = decision_for(claim, policy, outcome)
        if isinstance(decision, ReviewNeeded):
            self._to_review(claim, outcome, decision, now, report)
            return None
        if decision is None:
            self._defer(claim.claim_id, outcome, now)
            report.deferred.append(claim.claim_id)
            return None
        record = record_of(
            claim, outcome.evidence, decision, policy.policy_version, answer_digests(outcome.answers)
        )
        if hash_record(record) != decision.evidence_hash:  # the audit must re-derive what we post
            raise AssertionError(f"claim {claim.claim_id}: canonical record does not hash to its verdict")
        # The raw answers are stored at first fetch, with the verdict they prove: the exchange may purge them.
        return DecisionToSave(
            claim_id=claim.claim_id,
            decision=decision,
            record=record,
            evidence=outcome.evidence,
            answers=outcome.answers,
            policy=policy,
        )

    def _save(self, verdicts: Sequence[DecisionToSave], now: int, report: RunReport) -> None:
        """Audits, then stores, a group of verdicts. Audit before store: a crash in between re-decides the
        group and audits it again, never the reverse (a posted verdict with no audit record)."""
        # A keeper whose lease lapsed mid-work stores no verdict over the new owner's: that one may differ
        # (the trader's remaining coverage moved) and be the one on chain, which decides whether it is paid.
        kept = set(self.ownership.keep(self.store, [verdict.claim_id for verdict in verdicts]))
        verdicts = [verdict for verdict in verdicts if verdict.claim_id in kept]
        if not verdicts:
            return
        self.audit.record_decisions([(v.claim_id, v.decision, v.record) for v in verdicts], timestamp=now)
        self.store.save_decisions(verdicts)
        for verdict in verdicts:
            report.decided.append(verdict.claim_id)
            self._decided_this_pass.add(verdict.claim_id)
            report.verdict_reasons.append(int(verdict.decision.reason_code))

    def _to_review(
        self,
        claim: ClaimInput,
        outcome: VerificationOutcome,
        review: ReviewNeeded,
        now: int,
        report: RunReport,
    ) -> None:
        """Parks a claim for a person: audited and stored with its raw answers, never re-polled."""
        if review.cause is ReviewCause.UNKNOWN_ACCOUNT:
            log.error(
                "ALERT claim %d: no credentials for accountRef %s in the keeper's accounts file; it waits in"
                " manual review (add the account and reopen, or decide it with `keeper review decide`)",
                claim.claim_id,
                claim.account_ref,
            )
        else:
            log.warning("claim %d needs a person (%s): %s", claim.claim_id, review.cause.value, review.detail)
        earliest = (
            outcome.evidence.liquidation_time_ms
            if outcome.evidence is not None
            else outcome.request.order_query(now * 1000).not_before_ms
        )
        self.audit.record_review(
            claim.claim_id, review.cause.value, review.detail, answer_digests(outcome.answers), timestamp=now
        )
        self.store.to_review(
            claim.claim_id,
            review.cause,
            review.detail,
            outcome.answers,
            now,
            claim=claim,
            earliest_ms=earliest,
            evidence=outcome.evidence,
        )
        report.reviewed.append((claim.claim_id, review.cause.value))

    # --- a person's decision (``keeper review decide``); posted by the next pass
    def claim_input(self, claim_id: int) -> ClaimInput:
        """The claim as the policy judges it now: its filing-time term and today's remaining coverage,
        rebuilt from the chain exactly as a pass does."""
        claim = self.store.claim(claim_id)
        views, policies = self.chain.claims_and_policies([claim_id], [claim.user])
        changes = self._policy_changes_to(claim.block_number)
        return self._claim_input(claim, views[claim_id], policies[claim.user], changes.get(claim.user, []))

    def decide_review(
        self,
        claim_id: int,
        reviewer: str,
        note: str,
        *,
        approve_units: int | None = None,
        reject_reason: ReasonCode | None = None,
    ) -> Decision:
        """A person's verdict on a claim in manual review, through the policy's caps
        (``policy.decide_by_person``): audited with the reviewer, stored as ``decided`` with the answers the
        review rests on, and posted on chain by the keeper's next pass."""
        stored = self.store.claim(claim_id)
        if stored.state is not ClaimState.MANUAL_REVIEW or stored.review_cause is None:
            raise NotInReviewError(claim_id, stored.state.value)
        status = self.chain.claim(claim_id).status
        if status is not ClaimStatus.PENDING:
            raise NotInReviewError(claim_id, f"{status.name} on chain")
        claim = self.claim_input(claim_id)
        policy = self._effective_policy()
        evidence = self.store.evidence(claim_id)
        digests = answer_digests(self.store.answers(claim_id))
        review = Review(reviewer=reviewer, note=note, cause=stored.review_cause)
        decision = decide_by_person(
            claim,
            policy,
            evidence,
            review,
            approve_units=approve_units,
            reject_reason=reject_reason,
            answers=digests,
        )
        record = record_of(claim, evidence, decision, policy.policy_version, digests, review)
        if hash_record(record) != decision.evidence_hash:
            raise AssertionError(f"claim {claim_id}: canonical record does not hash to its verdict")
        now = self.chain.now()
        self.audit.record_decision(claim_id, decision, record, timestamp=now, reviewer=reviewer)
        self.store.save_decision(claim_id, decision, record, evidence, None, policy)
        log.warning(
            "claim %d decided by %s: %s, payout %d; posted by the next pass",
            claim_id,
            reviewer,
            decision.reason_code.name,
            decision.payout,
        )
        return decision

    def _settled_elsewhere(self, claim: ClaimRecord, view: ClaimView) -> bool:
        """A claim decided on chain without us (another keeper, a previous run that crashed after posting)."""
        if view.status is ClaimStatus.PENDING:
            return False
        log.warning("claim %d is already %s on chain; not deciding it", claim.claim_id, view.status.name)
        self.store.set_state([claim.claim_id], _state_for(view.status))
        return True

    def _claim_input(
        self,
        claim: ClaimRecord,
        on_chain: ClaimView,
        today: PolicyView,
        changes: Sequence[PolicyChange],
    ) -> ClaimInput:
        """The claim as judged: the coverage term in force when it was filed (rebuilt from the policy events
        up to the claim's log, so a renewal after filing changes nothing), and what of that term's limit is
        left today (never more than the contract's remaining coverage, which bounds the payout); ``today`` is
        the trader's ``getPolicy`` now."""
        term = term_at(changes, claim.user, claim.block_number, claim.log_index)
        if term is None:
            log.warning(
                "claim %d: no policy event of %s from block %d on; judged against today's getPolicy",
                claim.claim_id,
                claim.user,
                self.config.start_block,
            )
            start, end, limit = today.coverage_start, today.coverage_end, today.coverage_limit
        else:
            start, end, limit = term.coverage_start, term.coverage_end, term.coverage_limit
        remaining = min(today.remaining, max(limit - today.used, 0))
        return ClaimInput(
            claim_id=claim.claim_id,
            user=claim.user,
            exchange=Exchange(claim.exchange),
            account_ref=claim.account_ref,
            order_id=claim.order_id,
            instrument=claim.instrument,
            claimed_loss=claim.claimed_loss,
            submitted_at=on_chain.submitted_at,
            coverage_start=start,
            coverage_end=end,
            remaining_coverage=remaining,
        )

    def _policy_changes_to(self, block: int) -> dict[str, list[PolicyChange]]:
        """Every policy log from the start block up to at least ``block``, per trader, in chain order (a
        claim's term is rebuilt from its own trader's logs: ``term_at``). Claims are read only below the
        confirmed head, so their blocks' logs are final: each block is read once per process."""
        if block > self._policy_read_to:
            for change in self.chain.policy_changes(self._policy_read_to + 1, block):
                self._policy_by_user.setdefault(change.user, []).append(change)
            self._policy_read_to = block
        return self._policy_by_user

    def _effective_policy(self) -> PolicyParams:
        # The contract rejects a payout above its own cap, so the tighter of the two caps decides.
        cap = min(self.policy.max_payout_per_claim, self.chain.max_payout_per_claim())
        return self.policy.model_copy(update={"max_payout_per_claim": cap})

    def _defer(self, claim_id: int, outcome: VerificationOutcome, now: int) -> None:
        delay = self._retry_delay(claim_id)
        if outcome.retry_at is not None:
            # The exchange closed its door until retry_at (wall clock): asking before is what earns a ban.
            delay = max(delay, math.ceil(outcome.retry_at - time.time()))
        error = f"{outcome.error}: {outcome.detail}"
        if outcome.disposition is Disposition.ALERT:
            log.error("ALERT claim %d: exchange refused our credentials (%s)", claim_id, outcome.error)
        else:
            log.warning("claim %d deferred for %ds (%s)", claim_id, delay, outcome.error)
        self.store.defer(claim_id, error, now + delay)

    def _retry_delay(self, claim_id: int) -> int:
        attempts = self.store.claim(claim_id).attempts
        return min(self.config.defer_base_seconds * (1 << attempts), self.config.defer_max_seconds)

    # --- step 3: post verdicts
    def _post(self, report: RunReport) -> None:
        """Every verdict stored as decided and not in flight (the pass's leftovers, a person's decisions, an
        earlier pass's verdicts), in batches; then waits until all are mined."""
        decided = self.ownership.decided(self.store)
        in_flight = {claim_id for claim_id, _ in self._in_flight[0]} if self._in_flight else set()
        verdicts: list[tuple[int, Decision]] = []
        for claim in decided:
            if claim.claim_id in in_flight:
                continue  # sent, not yet seen mined
            stored = self.store.decision(claim.claim_id)
            if stored is not None:
                verdicts.append((claim.claim_id, stored.decision))
        for batch in batches(verdicts, self.config.verify_batch_size):
            self._post_batch(batch, report)
        self._settle(report)

    def _post_group(self, group: Sequence[DecisionToSave], report: RunReport) -> None:
        """A full batch of verdicts just stored, sent from memory (not read back from the store)."""
        # In claim order, as the post step sends them: when the pool can cover only some of a batch's
        # payouts, the earlier claims reserve first.
        ordered = sorted(group, key=lambda verdict: verdict.claim_id)
        self._post_batch([(verdict.claim_id, verdict.decision) for verdict in ordered], report)

    def _post_batch(self, batch: list[tuple[int, Decision]], report: RunReport) -> None:
        """Sends one verdict batch, after settling the one before it (mined by now, as a rule: it had the
        time this batch took to decide), so the dry-run sees the state that batch left."""
        self._settle(report)
        # Only verdicts whose claims are still ours: a keeper whose lease lapsed mid-work leaves the claim to
        # the keeper that took it over (keeper/claim_ownership.py).
        kept = set(self.ownership.keep(self.store, [claim_id for claim_id, _ in batch]))
        batch = [item for item in batch if item[0] in kept]
        if not batch:
            return
        try:
            # Claims decided in this pass were read Pending at its start: not read again before posting.
            with tracing.post_verifications(batch):
                pending = self.chain.send_verifications(batch, known_pending=self._decided_this_pass)
        except WriteRevertedError as exc:
            self._bisect(batch, exc, report)
            return
        if pending is None:
            # None of them is Pending on chain any more (decided by another keeper or an earlier run).
            self.store.set_state([claim_id for claim_id, _ in batch], ClaimState.POSTED)
            return
        self._in_flight = (batch, pending)

    def _settle(self, report: RunReport) -> None:
        """Waits for the verdict batch in flight, if any, and records it; a batch that reverted when mined is
        bisected, and the halves it sends are settled too, so nothing is left in flight."""
        while self._in_flight is not None:
            batch, pending = self._in_flight
            self._in_flight = None
            try:
                sent = self.chain.settle(pending)
            except WriteRevertedError as exc:  # reverted when mined: bisected like a dry-run revert
                self._bisect(batch, exc, report)
                continue
            self._record_tx(TxKind.VERIFY, sent, report)
            report.posted.extend(sent.claim_ids)
            # A claim counts as posted once it is decided on chain, by this transaction or earlier: a mined
            # batch decided or skipped (already decided) every item, and the items left out were not Pending.
            self.store.set_state([claim_id for claim_id, _ in batch], ClaimState.POSTED)

    def _bisect(self, batch: list[tuple[int, Decision]], exc: WriteRevertedError, report: RunReport) -> None:
        """One bad verdict (e.g. the pool cannot reserve its payout) must not hold up the rest: halves until
        the verdict that reverts alone is found and held."""
        report.reverted_dry_runs.append(TxKind.VERIFY.value)
        if len(batch) == 1:
            self._hold(batch[0][0], exc, report)
            return
        middle = len(batch) // 2
        self._post_batch(batch[:middle], report)
        self._post_batch(batch[middle:], report)

    def _hold(self, claim_id: int, exc: WriteRevertedError, report: RunReport) -> None:
        """A verdict that reverts on its own: re-verified after the back-off, never dropped. Over the daily
        approval limit, the back-off is the rest of the UTC day (the limit resets at midnight)."""
        now = self.chain.now()
        if exc.error_name == APPROVAL_LIMIT_ERROR:
            delay = next_utc_day(now) - now
        else:
            delay = self._retry_delay(claim_id)
        log.error(
            "ALERT claim %d: its verdict reverts on chain (%s); retry in %ds", claim_id, exc.error, delay
        )
        self.store.defer(claim_id, f"verdict_reverted: {exc.error}", now + delay)
        report.held.append(claim_id)

    # --- step 4: pay approved claims past their challenge window
    def _pay(self, report: RunReport) -> None:
        now = self.chain.now()
        # Only the approvals whose payout may be tried now: the store holds each one's challenge window
        # (``hold_payouts``) and back-off, so a pass does not read the approvals that are still waiting.
        unknown = [
            claim.claim_id
            for claim in self.store.awaiting_payout(now)
            if claim.claim_id not in self._not_payable
        ]
        views = self.chain.claims(unknown) if unknown else {}
        payable: list[int] = []
        waiting: dict[int, int] = {}
        for claim_id in unknown:
            view = views[claim_id]
            if view.status is ClaimStatus.PAID:
                self.store.set_state([claim_id], ClaimState.PAID)
            elif view.status is not ClaimStatus.APPROVED:
                self._not_payable.add(claim_id)  # vetoed or rejected elsewhere: nothing to pay
            elif view.payable_at <= now:
                payable.append(claim_id)
            else:
                waiting[claim_id] = view.payable_at
        self.store.hold_payouts(waiting)
        for batch in batches(payable, self.config.payout_batch_size):
            try:
                sent = self.chain.execute_payouts(batch, known_approved=batch)  # just read: Approved, due
            except WriteRevertedError as exc:
                # The batch skips unpayable claims and survives refused transfers, so a revert is batch-wide
                # (payouts paused): retry later.
                log.warning("payout batch %s reverts (%s); retrying next pass", batch, exc.error)
                report.reverted_dry_runs.append(TxKind.PAYOUT.value)
                continue
            if sent is not None:
                self._record_tx(TxKind.PAYOUT, sent, report)
                for failure in sent.failed_payouts:
                    self._payout_failed(failure, now, report)
                for item in sent.skipped:
                    self._payout_skipped(item, now, report)
            paid = [] if sent is None else sent.paid
            self.store.set_state(paid, ClaimState.PAID)
            report.paid.extend(paid)

    def _payout_failed(self, failure: FailedPayout, now: int, report: RunReport) -> None:
        """The token refused this claim's transfer (e.g. the issuer blocked the trader): alert, back off."""
        failures = self.store.claim(failure.claim_id).payout_failures
        delays = self.config.payout_retry_seconds
        delay = delays[min(failures, len(delays) - 1)]
        log.error(
            "ALERT claim %d: the token refused its payout of %d to %s (PayoutFailed, failure %d);"
            " retry in %ds",
            failure.claim_id,
            failure.amount,
            failure.user,
            failures + 1,
            delay,
        )
        self.store.payout_failed(failure.claim_id, f"payout_failed: amount={failure.amount}", now + delay)
        report.payout_failed.append(failure.claim_id)

    def _payout_skipped(self, item: SkippedItem, now: int, report: RunReport) -> None:
        """A payout the contract skipped: over the daily payout limit it waits for the next UTC day; a
        blacklisted trader's is backed off like a refused transfer; any other reason is re-read next pass."""
        report.payout_skipped.append((item.claim_id, int(item.reason)))
        if item.reason is SkipReason.DAILY_PAYOUT_LIMIT:
            retry_at = next_utc_day(now)
            log.warning("claim %d: daily payout limit reached; payout retried at %d", item.claim_id, retry_at)
            self.store.payout_failed(
                item.claim_id, "payout_skipped: DAILY_PAYOUT_LIMIT", retry_at, count=False
            )
        elif item.reason is SkipReason.USER_BLACKLISTED:
            delay = self.config.payout_retry_seconds[-1]
            log.warning("claim %d: its trader is blacklisted; payout retried in %ds", item.claim_id, delay)
            self.store.payout_failed(
                item.claim_id, "payout_skipped: USER_BLACKLISTED", now + delay, count=False
            )
        else:
            # Its payout_retry_at is not moved: the next pass reads the claim again.
            log.warning("claim %d: payout skipped (%s)", item.claim_id, item.reason.name)

    def _record_tx(self, kind: TxKind, sent: SentTransaction, report: RunReport) -> None:
        self.store.record_transaction(
            StoredTransaction(
                tx_hash=sent.tx_hash,
                kind=kind,
                claim_ids=sent.claim_ids,
                status=sent.status,
                gas_used=sent.gas_used,
            )
        )
        self.audit.record_transaction(
            kind.value, sent.tx_hash, sent.claim_ids, sent.status, sent.gas_used, timestamp=self.chain.now()
        )
        report.transactions.append(sent.tx_hash)
        report.transaction_outcomes.append((kind.value, sent.status, sent.gas_used))


def _admission_request(claim: ClaimRecord) -> VerificationRequest:
    """What admission needs of a claim before anything is read of it: its exchange, account and order (the
    weight a claim costs does not depend on its time span)."""
    return VerificationRequest(
        exchange=Exchange(claim.exchange),
        account_ref=claim.account_ref,
        order_id=claim.order_id,
        instrument=claim.instrument,
    )


def _record(event: ClaimedEvent) -> ClaimRecord:
    return ClaimRecord(**event.model_dump())


def _state_for(status: ClaimStatus) -> ClaimState:
    return ClaimState.PAID if status is ClaimStatus.PAID else ClaimState.POSTED
