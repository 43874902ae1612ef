"""Thin typed wrapper over an ape ``LeverageGuard`` contract instance: logs, views and the two writes.

Every write is dry-run first (``estimate_gas_cost`` reverts exactly as the transaction would), and
``post_verifications`` re-reads each claim's on-chain status so a verdict is never posted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from keeper.policy import Decision


class OnChainStatus(IntEnum):
    NONE = 0
    PENDING = 1
    APPROVED = 2
    REJECTED = 3
    PAID = 4


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
    status: OnChainStatus
    claimed_loss: int
    payout: int
    submitted_at: int
    decided_at: int
    reason_code: int


class PolicyView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account_ref: str
    coverage_limit: int
    coverage_start: int
    coverage_end: int
    paid_out: int
    reserved: int


class SentTransaction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tx_hash: str
    claim_ids: list[int]
    status: str
    gas_used: int | None


class WriteRevertedError(RuntimeError):
    """A write's dry-run (or the mined transaction) reverted; ``error`` is the decoded custom error."""

    def __init__(self, method: str, claim_ids: Sequence[int], error: str) -> None:
        super().__init__(f"{method} for claims {list(claim_ids)} reverts: {error}")
        self.method = method
        self.claim_ids = list(claim_ids)
        self.error = error


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
            status=OnChainStatus(int(view.status)),
            claimed_loss=int(view.claimedLoss),
            payout=int(view.payout),
            submitted_at=int(view.submittedAt),
            decided_at=int(view.decidedAt),
            reason_code=int(view.reasonCode),
        )

    def policy(self, user: str) -> PolicyView:
        view = self._contract.getPolicy(user)
        return PolicyView(
            account_ref="0x" + bytes(view.accountRef).hex(),
            coverage_limit=int(view.coverageLimit),
            coverage_start=int(view.coverageStart),
            coverage_end=int(view.coverageEnd),
            paid_out=int(view.paidOut),
            reserved=int(view.reserved),
        )

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
            if self.claim(claim_id).status is OnChainStatus.PENDING
        ]
        if not items:
            return None
        return self._send("postVerifications", items, [item[0] for item in items])

    def execute_payouts(self, claim_ids: Sequence[int]) -> SentTransaction | None:
        """Pays the claims still Approved on chain; None when none is."""
        ids = [cid for cid in claim_ids if self.claim(cid).status is OnChainStatus.APPROVED]
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
        return _sent(receipt, claim_ids)


def _sent(receipt: Any, claim_ids: list[int]) -> SentTransaction:
    gas = getattr(receipt, "gas_used", None)
    return SentTransaction(
        tx_hash=str(receipt.txn_hash),
        claim_ids=claim_ids,
        status="failed" if receipt.failed else "confirmed",
        gas_used=None if gas is None else int(gas),
    )


def _describe_revert(exc: Exception) -> str:
    """``ErrorName(arg=value, ...)`` for a decoded custom error, else the revert message."""
    inputs = getattr(exc, "inputs", None)
    if isinstance(inputs, dict):
        arguments = ", ".join(f"{name}={value}" for name, value in inputs.items())
        return f"{type(exc).__name__}({arguments})"
    return f"{type(exc).__name__}: {exc}"
