"""Thin typed wrapper over an ape ``LeverageGuard`` contract instance: logs, views and the two writes.

Every write is dry-run first (``estimate_gas_cost`` reverts exactly as the transaction would), and
``post_verifications`` re-reads each claim's on-chain status so a verdict is never posted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from keeper.interface import ClaimStatus, SkipReason
from keeper.policy import Decision
from keeper.store import AppealKind, AppealRecord

# The contract's ClaimStatus (keeper.interface); the old name stays for the modules that use it.


class ClaimedEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    user: str
    exchange: int
    account_ref: str
    order_id: str
    instrument: str
    claimed_loss: int
    block_number: int
    log_index: int


class ClaimView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str
    exchange: int
    status: ClaimStatus
    claimed_loss: int
    payout: int
    submitted_at: int
    decided_at: int
    reason_code: int
    payable_at: int
    """Stamped at approval (decidedAt + the challenge period then in force): veto before, payout from then."""


class PolicyView(BaseModel):
    """``getPolicy``: today's policy. ``used`` = paid out + reserved, over all terms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_ref: str
    coverage_limit: int
    coverage_start: int
    coverage_end: int
    used: int
    whitelisted: bool
    blacklisted: bool

    @property
    def remaining(self) -> int:
        return max(self.coverage_limit - self.used, 0)


class PolicyTerm(BaseModel):
    """A policy term as the chain's events (Whitelisted, CoverageExtended, RemovedFromWhitelist) left it at a
    given log position: what a claim filed there is judged against."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_ref: str
    coverage_limit: int
    coverage_start: int
    coverage_end: int


POLICY_EVENTS = {
    "Whitelisted": "whitelisted",
    "CoverageExtended": "extended",
    "RemovedFromWhitelist": "removed",
}


class PolicyChange(BaseModel):
    """One policy log: ``whitelisted`` starts a term (all fields), ``extended`` sets limit and end,
    ``removed`` moves the end to the removal time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str
    kind: str
    block_number: int
    log_index: int
    account_ref: str | None
    coverage_limit: int | None
    coverage_start: int | None
    coverage_end: int


def term_at(
    changes: Sequence[PolicyChange], user: str, block_number: int, log_index: int
) -> PolicyTerm | None:
    """The term in force for ``user`` just before log ``(block_number, log_index)``, from ``changes`` in chain
    order; None when no term of theirs begins in them (e.g. a policy written before the first block read,
    or by 1.0.0)."""
    term: PolicyTerm | None = None
    for change in changes:
        if change.user != user.lower() or (change.block_number, change.log_index) >= (
            block_number,
            log_index,
        ):
            continue
        if change.kind == "whitelisted":
            assert change.account_ref is not None and change.coverage_limit is not None
            assert change.coverage_start is not None
            term = PolicyTerm(
                account_ref=change.account_ref,
                coverage_limit=change.coverage_limit,
                coverage_start=change.coverage_start,
                coverage_end=change.coverage_end,
            )
        elif term is None:
            continue  # an extension or removal of a term begun before the first block read
        elif change.kind == "extended":
            assert change.coverage_limit is not None
            term = term.model_copy(
                update={"coverage_limit": change.coverage_limit, "coverage_end": change.coverage_end}
            )
        else:
            term = term.model_copy(update={"coverage_end": change.coverage_end})
    return term


class SkippedItem(BaseModel):
    """A batch item the contract did not apply (``VerificationSkipped`` / ``PayoutSkipped``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    reason: SkipReason


class FailedPayout(BaseModel):
    """``PayoutFailed``: the token refused this claim's transfer; it stays Approved and reserved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    user: str
    amount: int


class SentTransaction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tx_hash: str
    claim_ids: list[int]
    status: str
    gas_used: int | None
    skipped: list[SkippedItem] = []
    """Items the contract skipped, with their SKIP_* reason."""
    failed_payouts: list[FailedPayout] = []
    """Payouts whose transfer the token refused (``executePayouts`` only)."""

    @property
    def failed_claim_ids(self) -> list[int]:
        return [f.claim_id for f in self.failed_payouts]


class WriteRevertedError(RuntimeError):
    """A write's dry-run (or the mined transaction) reverted; ``error`` is the decoded custom error."""

    def __init__(self, method: str, claim_ids: Sequence[int], error: str) -> None:
        super().__init__(f"{method} for claims {list(claim_ids)} reverts: {error}")
        self.method = method
        self.claim_ids = list(claim_ids)
        self.error = error

    @property
    def error_name(self) -> str:
        """The custom error's name (``DailyApprovalLimitExceeded``), or the exception type of a plain
        revert."""
        return self.error.split("(", 1)[0].split(":", 1)[0]


class ChainClient:
    """``contract`` is an ape ContractInstance; ``sender`` an ape account that may post verdicts."""

    def __init__(self, contract: Any, sender: Any, chain_manager: Any) -> None:
        self._contract = contract
        self._sender = sender
        self._chain = chain_manager

    def __repr__(self) -> str:
        return f"ChainClient({self._contract.address}, sender={self._sender.address})"

    def head(self) -> int:
        return int(self._chain.blocks.head.number)

    def now(self) -> int:
        """The latest block's timestamp: the contract's clock, not ours."""
        return int(self._chain.blocks.head.timestamp)

    def claimed_events(self, start: int, stop: int) -> list[ClaimedEvent]:
        """``LiquidationClaimed`` logs in blocks ``start..stop`` inclusive, in chain order."""
        if stop < start:
            return []
        events = []
        for log in self._contract.LiquidationClaimed.range(start, stop + 1):
            args = log.event_arguments
            events.append(
                ClaimedEvent(
                    claim_id=int(args["claimId"]),
                    user=str(args["user"]).lower(),
                    exchange=int(args["exchange"]),
                    account_ref="0x" + bytes(args["accountRef"]).hex(),
                    order_id=str(args["orderId"]),
                    instrument=str(args["instrument"]),
                    claimed_loss=int(args["claimedLoss"]),
                    block_number=int(log.block_number),
                    log_index=int(log.log_index),
                )
            )
        return sorted(events, key=lambda e: (e.block_number, e.log_index))

    def claim(self, claim_id: int) -> ClaimView:
        view = self._contract.getClaim(claim_id)
        return ClaimView(
            user=str(view.user).lower(),
            exchange=int(view.exchange),
            status=ClaimStatus(int(view.status)),
            claimed_loss=int(view.claimedLoss),
            payout=int(view.payout),
            submitted_at=int(view.submittedAt),
            decided_at=int(view.decidedAt),
            reason_code=int(view.reasonCode),
            payable_at=int(view.payableAt),
        )

    def policy(self, user: str) -> PolicyView:
        view = self._contract.getPolicy(user)
        return PolicyView(
            account_ref="0x" + bytes(view.accountRef).hex(),
            coverage_limit=int(view.coverageLimit),
            coverage_start=int(view.coverageStart),
            coverage_end=int(view.coverageEnd),
            used=int(view.used),
            whitelisted=bool(view.whitelisted),
            blacklisted=bool(view.blacklisted),
        )

    def policy_changes(self, start: int, stop: int, user: str | None = None) -> list[PolicyChange]:
        """The Whitelisted / CoverageExtended / RemovedFromWhitelist logs of blocks ``start..stop`` (of one
        ``user``, or of everyone), in chain order: what ``term_at`` rebuilds a policy term from."""
        if stop < start:
            return []
        changes: list[PolicyChange] = []
        for log in self._logs(list(POLICY_EVENTS), start, stop, user):
            args = log.event_arguments
            changes.append(
                PolicyChange(
                    user=str(args["user"]).lower(),
                    kind=POLICY_EVENTS[log.event_name],
                    block_number=int(log.block_number),
                    log_index=int(log.log_index),
                    account_ref=("0x" + bytes(args["accountRef"]).hex() if "accountRef" in args else None),
                    coverage_limit=int(args["coverageLimit"]) if "coverageLimit" in args else None,
                    coverage_start=int(args["coverageStart"]) if "coverageStart" in args else None,
                    coverage_end=int(args["coverageEnd"]),
                )
            )
        return sorted(changes, key=lambda c: (c.block_number, c.log_index))

    def _logs(self, names: Sequence[str], start: int, stop: int, user: str | None = None) -> list[Any]:
        """The contract's logs of the events ``names`` in blocks ``start..stop``, in one ``eth_getLogs`` per
        page (a topic-0 OR filter); ``user``: only those whose first indexed argument is this address."""
        from ape.types.events import LogFilter  # ape only where the chain is read, as in _send

        abis = [getattr(self._contract, name).abi for name in names]
        base = LogFilter(addresses=[self._contract.address], events=abis, start_block=start, stop_block=stop)
        topics: list[Any] = [list(base.selectors)]
        if user is not None:
            topics.append("0x" + "00" * 12 + user.lower().removeprefix("0x"))
        return list(self._chain.provider.get_contract_logs(base.model_copy(update={"topic_filter": topics})))

    def appeal_events(self, start: int, stop: int) -> list[AppealRecord]:
        """``ClaimReopened`` / ``ClaimCancelled`` / ``ClaimVetoed`` logs in blocks ``start..stop``, in chain
        order."""
        if stop < start:
            return []
        kinds = {
            "ClaimReopened": AppealKind.REOPENED,
            "ClaimCancelled": AppealKind.CANCELLED,
            "ClaimVetoed": AppealKind.VETOED,
        }
        events = [
            AppealRecord(
                claim_id=int(log.event_arguments["claimId"]),
                kind=kinds[log.event_name],
                block_number=int(log.block_number),
                log_index=int(log.log_index),
            )
            for log in self._logs(list(kinds), start, stop)
        ]
        return sorted(events, key=lambda e: (e.block_number, e.log_index))

    def claim_grace_period(self) -> int:
        return int(self._contract.claimGracePeriod())

    def remaining_coverage(self, user: str) -> int:
        return int(self._contract.remainingCoverage(user))

    def max_payout_per_claim(self) -> int:
        return int(self._contract.maxPayoutPerClaim())

    def challenge_period(self) -> int:
        return int(self._contract.challengePeriod())

    def post_verifications(self, verdicts: Sequence[tuple[int, Decision]]) -> SentTransaction | None:
        """Posts the verdicts of claims still Pending on chain; None when none is (nothing sent)."""
        items = [
            (claim_id, d.approved, d.payout, bytes.fromhex(d.evidence_hash[2:]), int(d.reason_code))
            for claim_id, d in verdicts
            if self.claim(claim_id).status is ClaimStatus.PENDING
        ]
        if not items:
            return None
        return self._send("postVerifications", items, [item[0] for item in items])

    def execute_payouts(self, claim_ids: Sequence[int]) -> SentTransaction | None:
        """Pays the claims still Approved on chain; None when none is."""
        ids = [cid for cid in claim_ids if self.claim(cid).status is ClaimStatus.APPROVED]
        if not ids:
            return None
        return self._send("executePayouts", ids, ids)

    def pool_balances(self) -> tuple[int, int]:
        """(token balance, reserved) of the pool."""
        return int(self._contract.totalAssets()), int(self._contract.reservedAmount())

    def _send(self, method: str, arguments: Any, claim_ids: list[int]) -> SentTransaction:
        # Imported here so that the module stays importable (and its models usable) without ape loaded.
        from ape.exceptions import ContractLogicError

        call = getattr(self._contract, method)
        try:
            call.estimate_gas_cost(arguments, sender=self._sender)
            receipt = call(arguments, sender=self._sender)
        except ContractLogicError as exc:
            raise WriteRevertedError(method, claim_ids, _describe_revert(exc)) from exc
        return _sent(receipt, claim_ids, self._contract)


def _sent(receipt: Any, claim_ids: list[int], contract: Any) -> SentTransaction:
    gas = getattr(receipt, "gas_used", None)
    skipped: list[SkippedItem] = []
    failed: list[FailedPayout] = []
    if not receipt.failed:
        for name in ("VerificationSkipped", "PayoutSkipped"):
            for log in receipt.decode_logs(getattr(contract, name)):
                skipped.append(SkippedItem(claim_id=int(log.claimId), reason=SkipReason(int(log.reason))))
        for log in receipt.decode_logs(contract.PayoutFailed):
            failed.append(
                FailedPayout(claim_id=int(log.claimId), user=str(log.user).lower(), amount=int(log.amount))
            )
    return SentTransaction(
        tx_hash=str(receipt.txn_hash),
        claim_ids=claim_ids,
        status="failed" if receipt.failed else "confirmed",
        gas_used=None if gas is None else int(gas),
        skipped=skipped,
        failed_payouts=failed,
    )


def _describe_revert(exc: Exception) -> str:
    """``ErrorName(arg=value, ...)`` for a decoded custom error, else the revert message."""
    inputs = getattr(exc, "inputs", None)
    if isinstance(inputs, dict):
        arguments = ", ".join(f"{name}={value}" for name, value in inputs.items())
        return f"{type(exc).__name__}({arguments})"
    return f"{type(exc).__name__}: {exc}"
