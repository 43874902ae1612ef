"""What the console reads, as plain models: one pool snapshot from the chain, claims joined with the store."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from keeper.chain import ClaimView
from keeper.store import ClaimRecord, StoredDecision, StoredTransaction


class PoolSnapshot(BaseModel):
    """The pool's views at one block (amounts in base units, times in chain seconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str
    asset: str
    total_assets: int
    reserved: int
    free: int
    withdrawn_today: int
    paid_out_today: int
    approved_today: int
    daily_withdrawal_limit: int
    daily_payout_limit: int
    daily_approval_limit: int
    max_payout_per_claim: int
    max_coverage_limit: int
    challenge_period: int
    claim_grace_period: int
    paused_flags: int
    signers: list[str]
    threshold: int
    execution_delay: int
    proposal_lifetime: int


class ClaimRow(BaseModel):
    """A claim as the keeper stored it, with its on-chain view (None: not read, e.g. the chain is behind)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record: ClaimRecord
    chain: ClaimView | None


class ClaimDetailSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    row: ClaimRow
    decision: StoredDecision | None


class KeeperSnapshot(BaseModel):
    """The keeper's store (and the chain head for the cursor's lag)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    head: int
    cursor: int | None
    counts: dict[str, int]
    in_review: list[ClaimRecord]
    transactions: list[StoredTransaction]
