"""One pass of the keeper: chain logs -> store -> exchange verification -> policy -> audit -> chain.

``Pipeline.run_once`` is safe to repeat and to interrupt: the cursor moves only in the same transaction that
records the claims it covers, every decision is stored and audited before it is posted, and the chain client
re-reads each claim's on-chain status before posting or paying, so a restart never posts a verdict twice.

TODO (next slice of issue 5): the long-running loop around ``run_once`` (poll interval, SIGTERM/SIGINT
handling, watchdog), Prometheus metrics and a health endpoint, reorg handling beyond the confirmation depth,
and coordination between two keepers. None of that exists yet.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from keeper.audit_log import AuditLog
from keeper.chain import ChainClient, ClaimedEvent, OnChainStatus, SentTransaction
from keeper.evidence import ClaimInput, Exchange
from keeper.exchanges.errors import Disposition
from keeper.exchanges.service import (
    VerificationOutcome,
    VerificationRequest,
    Verifier,
    decision_for,
)
from keeper.policy import Decision, PolicyParams, canonical_record, hash_record
from keeper.store import ClaimRecord, ClaimState, Store, StoredTransaction, TxKind

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class PipelineConfig:
    confirmations: int = 2
    start_block: int = 0
    verify_batch_size: int = 20
    payout_batch_size: int = 20
    defer_base_seconds: int = 60
    defer_max_seconds: int = 3600


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


class Pipeline:
    def __init__(
        self,
        chain: ChainClient,
        store: Store,
        audit: AuditLog,
        verifier: Verifier,
        policy: PolicyParams,
        config: PipelineConfig,
    ) -> None:
        self.chain = chain
        self.store = store
        self.audit = audit
        self.verifier = verifier
        self.policy = policy
        self.config = config

    def run_once(self) -> RunReport:
        report = RunReport()
        self._ingest(report)
        self._decide(report)
        self._post(report)
        self._pay(report)
        return report

    # --- step 1: logs -> store
    def _ingest(self, report: RunReport) -> None:
        safe_head = self.chain.head() - self.config.confirmations
        cursor = self.store.cursor()
        start = self.config.start_block if cursor is None else cursor + 1
        if safe_head < start:
            return
        events = self.chain.claimed_events(start, safe_head)
        # One transaction: claims and cursor together, so a crash cannot skip a claim.
        report.recorded = self.store.record_claims([_record(e) for e in events], cursor=safe_head)
        report.scanned_to = safe_head

    # --- step 2: verify + decide + persist + audit
    def _decide(self, report: RunReport) -> None:
        now = self.chain.now()
        inputs: list[ClaimInput] = []
        for due in self.store.due_for_verification(now):
            if not self._settled_elsewhere(due):
                inputs.append(self._claim_input(due))
        if not inputs:
            return
        policy = self._effective_policy()
        outcomes = self.verifier.verify_many([VerificationRequest.for_claim(c) for c in inputs])
        for claim, outcome in zip(inputs, outcomes, strict=True):
            decision = decision_for(claim, policy, outcome)
            if decision is None:
                self._defer(claim.claim_id, outcome, now)
                report.deferred.append(claim.claim_id)
                continue
            record = canonical_record(
                claim,
                outcome.evidence,
                decision.approved,
                decision.payout,
                decision.reason_code,
                policy.policy_version,
            )
            if hash_record(record) != decision.evidence_hash:  # the audit must re-derive what we post
                raise AssertionError(f"claim {claim.claim_id}: canonical record does not hash to its verdict")
            # Audit before store: a crash in between re-decides the claim and audits it again, never the
            # reverse (a posted verdict with no audit record).
            self.audit.record_decision(claim.claim_id, decision, record, timestamp=now)
            self.store.save_decision(claim.claim_id, decision, record, outcome.evidence)
            report.decided.append(claim.claim_id)

    def _settled_elsewhere(self, claim: ClaimRecord) -> bool:
        """A claim decided on chain without us (another keeper, a previous run that crashed after posting)."""
        status = self.chain.claim(claim.claim_id).status
        if status is OnChainStatus.PENDING:
            return False
        log.warning("claim %d is already %s on chain; not deciding it", claim.claim_id, status.name)
        self.store.set_state([claim.claim_id], _state_for(status))
        return True

    def _claim_input(self, claim: ClaimRecord) -> ClaimInput:
        on_chain = self.chain.claim(claim.claim_id)
        policy = self.chain.policy(claim.user)
        return ClaimInput(
            claim_id=claim.claim_id,
            user=claim.user,
            exchange=Exchange(claim.exchange),
            account_ref=claim.account_ref,
            order_id=claim.order_id,
            instrument=claim.instrument,
            claimed_loss=claim.claimed_loss,
            submitted_at=on_chain.submitted_at,
            coverage_start=policy.coverage_start,
            coverage_end=policy.coverage_end,
            remaining_coverage=self.chain.remaining_coverage(claim.user),
        )

    def _effective_policy(self) -> PolicyParams:
        # The contract rejects a payout above its own cap, so the tighter of the two caps decides.
        cap = min(self.policy.max_payout_per_claim, self.chain.max_payout_per_claim())
        return self.policy.model_copy(update={"max_payout_per_claim": cap})

    def _defer(self, claim_id: int, outcome: VerificationOutcome, now: int) -> None:
        attempts = self.store.claim(claim_id).attempts
        delay = min(self.config.defer_base_seconds * 2**attempts, self.config.defer_max_seconds)
        error = f"{outcome.error}: {outcome.detail}"
        if outcome.disposition is Disposition.ALERT:
            log.error("ALERT claim %d: exchange refused our credentials (%s)", claim_id, outcome.error)
        else:
            log.warning("claim %d deferred for %ds (%s)", claim_id, delay, outcome.error)
        self.store.defer(claim_id, error, now + delay)

    # --- step 3: post verdicts
    def _post(self, report: RunReport) -> None:
        decided = self.store.claims_in_state(ClaimState.DECIDED)
        verdicts: list[tuple[int, Decision]] = []
        for claim in decided:
            stored = self.store.decision(claim.claim_id)
            if stored is not None:
                verdicts.append((claim.claim_id, stored.decision))
        for batch in _batches(verdicts, self.config.verify_batch_size):
            ids = [claim_id for claim_id, _ in batch]
            sent = self.chain.post_verifications(batch)
            if sent is not None:
                self._record_tx(TxKind.VERIFY, sent, report)
                report.posted.extend(sent.claim_ids)
            # Re-read rather than trust the receipt: a claim counts as posted once it is decided on chain,
            # whether by this transaction or earlier; one still Pending is retried next pass.
            settled = [cid for cid in ids if self.chain.claim(cid).status is not OnChainStatus.PENDING]
            self.store.set_state(settled, ClaimState.POSTED)

    # --- step 4: pay approved claims past their challenge window
    def _pay(self, report: RunReport) -> None:
        now = self.chain.now()
        period = self.chain.challenge_period()
        payable: list[int] = []
        for claim in self.store.claims_in_state(ClaimState.POSTED):
            stored = self.store.decision(claim.claim_id)
            if stored is not None and not stored.decision.approved:
                continue  # a posted rejection needs nothing more
            view = self.chain.claim(claim.claim_id)
            if view.status is OnChainStatus.PAID:
                self.store.set_state([claim.claim_id], ClaimState.PAID)
            elif view.status is OnChainStatus.APPROVED and view.decided_at + period <= now:
                payable.append(claim.claim_id)
        for batch in _batches(payable, self.config.payout_batch_size):
            sent = self.chain.execute_payouts(batch)
            if sent is not None:
                self._record_tx(TxKind.PAYOUT, sent, report)
            paid = [cid for cid in batch if self.chain.claim(cid).status is OnChainStatus.PAID]
            self.store.set_state(paid, ClaimState.PAID)
            report.paid.extend(paid)

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


def _record(event: ClaimedEvent) -> ClaimRecord:
    return ClaimRecord(**event.model_dump())


def _state_for(status: OnChainStatus) -> ClaimState:
    return ClaimState.PAID if status is OnChainStatus.PAID else ClaimState.POSTED


def _batches(items: Sequence[T], size: int) -> list[list[T]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
