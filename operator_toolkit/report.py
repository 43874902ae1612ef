"""The operator report: every claim with its on-chain history and the keeper's view, and the pool over time.

Sources: the guard's events (claims, verdicts, vetoes, payouts, deposits, withdrawals), the guard's own views
at each of those blocks (pool total and reserved, read at that block so they are the chain's numbers, not a
re-computation), and, optionally, the keeper's SQLite database opened read-only (its processing state,
attempts and last error per claim). Amounts stay in base units here; writers format them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from operator_toolkit.labels import CLAIM_STATUSES, exchange_name, reason_name

POOL_EVENTS = ("Deposited", "Withdrawn", "ClaimVerified", "ClaimVetoed", "ClaimCancelled", "PayoutExecuted")


@dataclass
class ClaimRecord:
    claim_id: int
    user: str
    exchange: str
    order_id: str
    instrument: str
    account_ref: str
    claimed_loss: int
    status: str
    payout: int
    reason_code: int | None
    reason: str | None
    submitted_at: int
    decided_at: int | None
    paid_at: int | None
    validator: str | None
    evidence_hash: str | None
    vetoed_by: str | None
    claim_tx: str
    payout_tx: str | None
    payout_failures: int = 0
    """PayoutFailed events: batch payouts the token refused (the claim stayed Approved and reserved)."""
    cancelled: bool = False
    """Governance cancelled the approval (ClaimCancelled)."""
    reopened: int = 0
    """Times governance reopened the claim after a rejection (ClaimReopened)."""
    keeper: dict[str, Any] | None = None


@dataclass
class PolicyRecord:
    """A trader's policy now (getPolicy): `used` is paid out plus reserved, over all terms."""

    user: str
    account_ref: str
    coverage_limit: int
    coverage_start: int
    coverage_end: int
    used: int
    remaining: int
    whitelisted: bool
    blacklisted: bool


@dataclass
class PoolPoint:
    block: int
    timestamp: int
    events: list[str]
    total_assets: int
    reserved: int

    @property
    def free(self) -> int:
        return max(self.total_assets - self.reserved, 0)


@dataclass
class Report:
    guard: str
    token: str
    symbol: str
    decimals: int
    from_block: int
    to_block: int
    since: int | None
    until: int | None
    claims: list[ClaimRecord] = field(default_factory=list)
    pool: list[PoolPoint] = field(default_factory=list)
    policies: list[PolicyRecord] = field(default_factory=list)
    deposited: int = 0
    withdrawn: int = 0
    paid_out: int = 0
    payout_failures: int = 0
    current: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["pool"] = [{**asdict(point), "free": point.free} for point in self.pool]
        return data


class _Blocks:
    """Block timestamps, each fetched once."""

    def __init__(self, chain: Any) -> None:
        self._chain = chain
        self._cache: dict[int, int] = {}

    def timestamp(self, number: int) -> int:
        if number not in self._cache:
            self._cache[number] = int(self._chain.blocks[number].timestamp)
        return self._cache[number]


def _in_window(timestamp: int, since: int | None, until: int | None) -> bool:
    return (since is None or timestamp >= since) and (until is None or timestamp < until)


def _logs(guard: Any, name: str, start: int, stop: int) -> list[Any]:
    return list(getattr(guard, name).range(start, stop + 1))


def read_keeper_db(path: Path) -> dict[int, dict[str, Any]]:
    """The keeper's row per claim (keeper/store.py schema), opened read-only: the report never writes it."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            "SELECT c.claim_id, c.state, c.attempts, c.last_error, d.approved, d.payout, d.reason_code,"
            " d.evidence_hash FROM claims c LEFT JOIN decisions d ON d.claim_id = c.claim_id"
        ).fetchall()
    finally:
        conn.close()
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        decided = row["approved"] is not None
        out[int(row["claim_id"])] = {
            "state": row["state"],
            "attempts": int(row["attempts"]),
            "last_error": row["last_error"],
            "decision": {
                "approved": bool(row["approved"]),
                "payout": int(row["payout"]),
                "reason_code": int(row["reason_code"]),
                "evidence_hash": row["evidence_hash"],
            }
            if decided
            else None,
        }
    return out


def pool_logs(
    guard: Any, blocks: _Blocks, from_block: int, head: int, since: int | None, until: int | None
) -> dict[int, list[tuple[str, Any]]]:
    """The pool's events (``POOL_EVENTS``) from ``from_block`` to ``head`` in the time window, by block."""
    logs_at: dict[int, list[tuple[str, Any]]] = {}
    for name in POOL_EVENTS:
        for log in _logs(guard, name, from_block, head):
            block = int(log.block_number)
            if _in_window(blocks.timestamp(block), since, until):
                logs_at.setdefault(block, []).append((name, log))
    return logs_at


def pool_points(guard: Any, blocks: _Blocks, logs_at: dict[int, list[tuple[str, Any]]]) -> list[PoolPoint]:
    """The pool's total and reserved read at each block where one of its events happened, oldest first."""
    return [
        PoolPoint(
            block=block,
            timestamp=blocks.timestamp(block),
            events=sorted({name for name, _ in logs_at[block]}),
            total_assets=int(guard.totalAssets(block_id=block)),
            reserved=int(guard.reservedAmount(block_id=block)),
        )
        for block in sorted(logs_at)
    ]


def pool_history(guard: Any, chain: Any, from_block: int, head: int) -> list[PoolPoint]:
    """Every change of the pool from ``from_block`` to ``head`` (the console's free-vs-reserved chart)."""
    blocks = _Blocks(chain)
    return pool_points(guard, blocks, pool_logs(guard, blocks, from_block, head, None, None))


def build_report(
    ctx: Any,
    chain: Any,
    *,
    from_block: int,
    since: int | None = None,
    until: int | None = None,
    keeper_db: Path | None = None,
) -> Report:
    """Collects the report from `from_block` to the chain head; claims by submission time in the window."""
    guard = ctx.guard
    head = int(chain.blocks.height)
    blocks = _Blocks(chain)
    report = Report(
        guard=str(guard.address),
        token=str(ctx.token.address),
        symbol=ctx.symbol,
        decimals=ctx.decimals,
        from_block=from_block,
        to_block=head,
        since=since,
        until=until,
    )
    keeper = read_keeper_db(keeper_db) if keeper_db is not None else {}
    verdicts = {int(log.claimId): log for log in _logs(guard, "ClaimVerified", from_block, head)}
    vetoes = {int(log.claimId): log for log in _logs(guard, "ClaimVetoed", from_block, head)}
    payouts = {int(log.claimId): log for log in _logs(guard, "PayoutExecuted", from_block, head)}
    failures: dict[int, int] = {}
    for log in _logs(guard, "PayoutFailed", from_block, head):
        if _in_window(blocks.timestamp(int(log.block_number)), since, until):
            report.payout_failures += 1
        failures[int(log.claimId)] = failures.get(int(log.claimId), 0) + 1
    cancelled = {int(log.claimId) for log in _logs(guard, "ClaimCancelled", from_block, head)}
    reopened: dict[int, int] = {}
    for log in _logs(guard, "ClaimReopened", from_block, head):
        reopened[int(log.claimId)] = reopened.get(int(log.claimId), 0) + 1

    for log in _logs(guard, "LiquidationClaimed", from_block, head):
        claim_id = int(log.claimId)
        submitted = blocks.timestamp(int(log.block_number))
        if not _in_window(submitted, since, until):
            continue
        view = guard.getClaim(claim_id)
        decided_at = int(view.decidedAt) or None
        verdict, veto, paid = verdicts.get(claim_id), vetoes.get(claim_id), payouts.get(claim_id)
        report.claims.append(
            ClaimRecord(
                claim_id=claim_id,
                user=str(log.user),
                exchange=exchange_name(int(log.exchange)),
                order_id=str(log.orderId),
                instrument=str(log.instrument),
                account_ref="0x" + bytes(log.accountRef).hex(),
                claimed_loss=int(log.claimedLoss),
                status=CLAIM_STATUSES[int(view.status)],
                # A paid claim keeps its payout; a vetoed one reads 0 on chain, as here.
                payout=int(view.payout),
                reason_code=int(view.reasonCode) if decided_at else None,
                reason=reason_name(int(view.reasonCode)) if decided_at else None,
                submitted_at=submitted,
                decided_at=decided_at,
                paid_at=blocks.timestamp(int(paid.block_number)) if paid else None,
                validator=str(verdict.validator) if verdict else None,
                evidence_hash="0x" + bytes(verdict.evidenceHash).hex() if verdict else None,
                vetoed_by=str(veto.by) if veto else None,
                claim_tx=str(log.transaction_hash),
                payout_tx=str(paid.transaction_hash) if paid else None,
                payout_failures=failures.get(claim_id, 0),
                cancelled=claim_id in cancelled,
                reopened=reopened.get(claim_id, 0),
                keeper=keeper.get(claim_id),
            )
        )

    logs_at = pool_logs(guard, blocks, from_block, head, since, until)
    for logs in logs_at.values():
        for name, log in logs:
            if name == "Deposited":
                report.deposited += int(log.amount)
            elif name == "Withdrawn":
                report.withdrawn += int(log.amount)
            elif name == "PayoutExecuted":
                report.paid_out += int(log.amount)
    report.pool = pool_points(guard, blocks, logs_at)
    holders = dict.fromkeys(str(log.user) for log in _logs(guard, "Whitelisted", from_block, head))
    for user in holders:
        policy = guard.getPolicy(user)
        limit, used = int(policy.coverageLimit), int(policy.used)
        report.policies.append(
            PolicyRecord(
                user=user,
                account_ref="0x" + bytes(policy.accountRef).hex(),
                coverage_limit=limit,
                coverage_start=int(policy.coverageStart),
                coverage_end=int(policy.coverageEnd),
                used=used,
                remaining=max(limit - used, 0),
                whitelisted=bool(policy.whitelisted),
                blacklisted=bool(policy.blacklisted),
            )
        )
    report.current = {
        "total_assets": int(guard.totalAssets()),
        "reserved": int(guard.reservedAmount()),
        "free": int(guard.freeBalance()),
        "claim_count": int(guard.claimCount()),
    }
    return report
