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


class KeeperHealth(BaseModel):
    """What the keeper daemon's own HTTP server said (``/healthz`` and ``/metrics``), or why it could not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    """The keeper's metrics address the console asked (``LG_METRICS_HOST``/``LG_METRICS_PORT``)."""
    asked_at: float
    """The console's unix time when it asked (the last pass's age is measured against it, not chain time)."""
    reachable: bool
    ok: bool = False
    problems: list[str] = []
    """``/healthz``'s sentences, or the reason the keeper could not be asked."""
    last_pass_at: float | None = None
    """Unix time of the last completed pass (``keeper_last_pass_timestamp_seconds``, the keeper's clock)."""
    passes: int | None = None
    pass_errors: int | None = None


class KeeperSnapshot(BaseModel):
    """The keeper's store (and the chain head for the cursor's lag), and the daemon's health if it answers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    head: int
    cursor: int | None
    counts: dict[str, int]
    in_review: list[ClaimRecord]
    transactions: list[StoredTransaction]
    health: KeeperHealth | None = None
    """None: the console was not told where the keeper serves its health."""


class ProposalSnapshot(BaseModel):
    """One multisig proposal as the chain has it, decoded and (while open) simulated as if executed now."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: int
    actions: list[str]
    """One decoded call per line (a multicall's items in order), as ``ape run proposals`` prints them."""
    proposer: str
    confirmed_by: list[str]
    confirmations: int
    threshold: int
    state: str
    """``operator_toolkit.governance.ProposalState``: pending, unscheduled, scheduled, ready, executed,
    cancelled or expired."""
    ready_at: int
    expires_at: int
    data_hash: str
    effect: list[tuple[str, str, str]]
    """(what, before, after) for each value the simulation changes; empty when closed or refused."""
    refusal: str | None
    """The decoded custom error executing it now would revert with (an open proposal only)."""


class ProposalsSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    now: int
    """The chain time the states were judged at."""
    count: int
    """``proposalCount``: the newest proposal's id."""
    proposals: list[ProposalSnapshot]
    """The newest ones read (at most the console's scan), oldest first."""
